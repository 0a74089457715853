-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
--
-- Host: localhost    Database: shop
-- ------------------------------------------------------
-- (a dump in mysqldump's order, written for ticketdb's lint corpus: triggers follow their
-- table and use tables dumped later; views come as stand-in tables, then the real view)

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!50503 SET NAMES utf8mb4 */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;

--
-- Table structure for table `customer`
--

DROP TABLE IF EXISTS `customer`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!50503 SET character_set_client = utf8mb4 */;
CREATE TABLE `customer` (
  `customer_id` int unsigned NOT NULL AUTO_INCREMENT,
  `email` varchar(190) NOT NULL,
  `user` varchar(64) NOT NULL,
  `uuid` char(36) NOT NULL,
  `version` int unsigned NOT NULL DEFAULT '1',
  `ignored` tinyint(1) NOT NULL DEFAULT '0',
  `discount` float unsigned NOT NULL DEFAULT '0',
  `email_domain` varchar(190) GENERATED ALWAYS AS (substring_index(`email`,'@',-1)) VIRTUAL,
  `user_version` varchar(80) GENERATED ALWAYS AS (concat(`user`,'#',`version`)) STORED,
  `created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`customer_id`),
  UNIQUE KEY `uq_customer_email` (`email`),
  UNIQUE KEY `uq_customer_uuid` (`uuid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
/*!40101 SET character_set_client = @saved_cs_client */;

LOCK TABLES `customer` WRITE;
/*!40000 ALTER TABLE `customer` DISABLE KEYS */;
INSERT INTO `customer` (`customer_id`, `email`, `user`, `uuid`, `version`, `ignored`, `discount`, `created_at`) VALUES (1,'ann@example.com','ann','6ccd780c-baba-1026-9564-5b8c656024db',1,0,0,'2024-01-01 00:00:00'),(2,'bob@example.com','bob','6ccd780c-baba-1026-9564-5b8c656024dc',1,0,0.1,'2024-01-02 00:00:00');
/*!40000 ALTER TABLE `customer` ENABLE KEYS */;
UNLOCK TABLES;

/*!50003 SET @saved_cs_client      = @@character_set_client */ ;
/*!50003 SET @saved_sql_mode       = @@sql_mode */ ;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=CURRENT_USER*/ /*!50003 TRIGGER `customer_au` AFTER UPDATE ON `customer` FOR EACH ROW BEGIN
  IF NEW.email <> OLD.email THEN
    INSERT INTO customer_audit (customer_id, old_email, new_email, changed_at)
    VALUES (NEW.customer_id, OLD.email, NEW.email, NOW());
  END IF;
END */;;
DELIMITER ;
/*!50003 SET sql_mode              = @saved_sql_mode */ ;

--
-- Table structure for table `customer_audit`
--

DROP TABLE IF EXISTS `customer_audit`;
CREATE TABLE `customer_audit` (
  `audit_id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `customer_id` int unsigned NOT NULL,
  `old_email` varchar(190) DEFAULT NULL,
  `new_email` varchar(190) DEFAULT NULL,
  `changed_at` datetime NOT NULL,
  PRIMARY KEY (`audit_id`),
  KEY `fk_audit_customer` (`customer_id`),
  CONSTRAINT `fk_audit_customer` FOREIGN KEY (`customer_id`) REFERENCES `customer` (`customer_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

--
-- Table structure for table `orders`
--

DROP TABLE IF EXISTS `orders`;
CREATE TABLE `orders` (
  `order_id` int unsigned NOT NULL AUTO_INCREMENT,
  `customer_id` int unsigned NOT NULL,
  `status` enum('new','paid','shipped','cancelled') NOT NULL DEFAULT 'new',
  `total` decimal(10,2) NOT NULL DEFAULT '0.00',
  `note` text,
  `placed_at` datetime NOT NULL,
  PRIMARY KEY (`order_id`),
  KEY `fk_orders_customer` (`customer_id`),
  KEY `idx_orders_customer_status` (`customer_id`,`status`),
  KEY `idx_note_long` (`note`(200)),
  KEY `idx_note_short_status` (`note`(10),`status`),
  CONSTRAINT `fk_orders_customer` FOREIGN KEY (`customer_id`) REFERENCES `customer` (`customer_id`),
  CONSTRAINT `fk_orders_item_last` FOREIGN KEY (`order_id`) REFERENCES `order_item` (`order_id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=CURRENT_USER*/ /*!50003 TRIGGER `orders_bi` BEFORE INSERT ON `orders` FOR EACH ROW BEGIN
  DECLARE v_count INT;
  SELECT COUNT(*) INTO v_count FROM order_item WHERE order_item.order_id = NEW.order_id;
  IF NEW.total < 0 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'negative total';
  END IF;
END */;;
DELIMITER ;

--
-- Table structure for table `order_item`
--

DROP TABLE IF EXISTS `order_item`;
CREATE TABLE `order_item` (
  `order_id` int unsigned NOT NULL,
  `line_no` smallint unsigned NOT NULL,
  `sku` varchar(40) NOT NULL,
  `qty` int unsigned NOT NULL,
  `price` decimal(10,2) NOT NULL,
  PRIMARY KEY (`order_id`,`line_no`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=CURRENT_USER*/ /*!50003 TRIGGER `order_item_ai` AFTER INSERT ON `order_item` FOR EACH ROW BEGIN
  UPDATE orders SET total = total + NEW.qty * NEW.price WHERE order_id = NEW.order_id;
  INSERT INTO stock_move (sku, delta, moved_at) VALUES (NEW.sku, -NEW.qty, NOW());
END */;;
DELIMITER ;

DROP TABLE IF EXISTS `stock_move`;
CREATE TABLE `stock_move` (
  `move_id` bigint unsigned NOT NULL AUTO_INCREMENT,
  `sku` varchar(40) NOT NULL,
  `delta` int NOT NULL,
  `moved_at` datetime NOT NULL,
  PRIMARY KEY (`move_id`),
  KEY `idx_sku` (`sku`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

--
-- Temporary view structure for view `customer_orders`
--

DROP TABLE IF EXISTS `customer_orders`;
/*!50001 DROP VIEW IF EXISTS `customer_orders`*/;
SET @saved_cs_client     = @@character_set_client;
/*!50503 SET character_set_client = utf8mb4 */;
/*!50001 CREATE VIEW `customer_orders` AS SELECT
 1 AS `customer_id`,
 1 AS `email`,
 1 AS `orders`,
 1 AS `label`*/;
SET character_set_client = @saved_cs_client;

--
-- Dumping routines for database 'shop'
--
/*!50003 DROP PROCEDURE IF EXISTS `place_order` */;
/*!50003 SET sql_mode              = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION' */ ;
DELIMITER ;;
CREATE DEFINER=CURRENT_USER PROCEDURE `place_order`(IN p_customer INT UNSIGNED, OUT p_order INT UNSIGNED)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
  INSERT INTO orders (customer_id, status, placed_at) VALUES (p_customer, 'new', NOW());
  SET p_order = LAST_INSERT_ID();
  UPDATE customer SET version = version + 1 WHERE customer_id = p_customer;
END ;;
DELIMITER ;
/*!50003 DROP FUNCTION IF EXISTS `customer_label` */;
DELIMITER ;;
CREATE DEFINER=CURRENT_USER FUNCTION `customer_label`(p_id INT UNSIGNED) RETURNS varchar(300) CHARSET utf8mb4
    READS SQL DATA
    SQL SECURITY INVOKER
BEGIN
  DECLARE v varchar(300);
  SELECT concat(`user`, ' <', email, '> v', version) INTO v FROM customer WHERE customer_id = p_id;
  RETURN v;
END ;;
DELIMITER ;

--
-- Final view structure for view `customer_orders`
--

/*!50001 DROP VIEW IF EXISTS `customer_orders`*/;
/*!50001 SET @saved_cs_client          = @@character_set_client */;
/*!50001 SET character_set_client      = utf8mb4 */;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=CURRENT_USER SQL SECURITY INVOKER */
/*!50001 VIEW `customer_orders` AS select `c`.`customer_id` AS `customer_id`,`c`.`email` AS `email`,count(`o`.`order_id`) AS `orders`,concat('/* ',`c`.`user`,' */') AS `label` from (`customer` `c` left join `orders` `o` on((`o`.`customer_id` = `c`.`customer_id`))) group by `c`.`customer_id`,`c`.`email`,`c`.`user` */;
/*!50001 SET character_set_client      = @saved_cs_client */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
-- Dump completed
