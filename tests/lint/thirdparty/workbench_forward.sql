-- MySQL Workbench Forward Engineering (a model exported the way Workbench 8 writes it, for ticketdb lint tests)

SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0;
SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0;
SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

-- -----------------------------------------------------
-- Schema helpdesk
-- -----------------------------------------------------
CREATE SCHEMA IF NOT EXISTS `helpdesk` DEFAULT CHARACTER SET utf8mb4 ;
USE `helpdesk` ;

-- -----------------------------------------------------
-- Table `helpdesk`.`agent`
-- -----------------------------------------------------
CREATE TABLE IF NOT EXISTS `helpdesk`.`agent` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `name` VARCHAR(45) NOT NULL,
  PRIMARY KEY (`id`))
ENGINE = InnoDB;

-- -----------------------------------------------------
-- Table `helpdesk`.`case`
-- -----------------------------------------------------
CREATE TABLE IF NOT EXISTS `helpdesk`.`case` (
  `id` INT UNSIGNED NOT NULL AUTO_INCREMENT,
  `agent_id` INT UNSIGNED NULL,
  `opened` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  INDEX `fk_case_agent_idx` (`agent_id` ASC) VISIBLE,
  CONSTRAINT `fk_case_agent`
    FOREIGN KEY (`agent_id`)
    REFERENCES `helpdesk`.`agent` (`id`)
    ON DELETE NO ACTION
    ON UPDATE NO ACTION)
ENGINE = InnoDB;

USE `helpdesk` ;

-- -----------------------------------------------------
-- Placeholder table for view `helpdesk`.`open_cases`
-- -----------------------------------------------------
CREATE TABLE IF NOT EXISTS `helpdesk`.`open_cases` (`id` INT, `name` INT);

-- -----------------------------------------------------
-- View `helpdesk`.`open_cases`
-- -----------------------------------------------------
DROP TABLE IF EXISTS `helpdesk`.`open_cases`;
USE `helpdesk`;
CREATE  OR REPLACE VIEW `open_cases` AS SELECT c.id, a.name FROM `case` c LEFT JOIN agent a ON a.id = c.agent_id;
USE `helpdesk`;

DELIMITER $$
USE `helpdesk`$$
CREATE DEFINER = CURRENT_USER TRIGGER `helpdesk`.`case_BEFORE_INSERT` BEFORE INSERT ON `case` FOR EACH ROW
BEGIN
  SET NEW.opened = IFNULL(NEW.opened, NOW());
END$$

DELIMITER ;

SET SQL_MODE=@OLD_SQL_MODE;
SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS;
SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS;
