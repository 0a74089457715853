-- In the shape of the "employees" sample database (schema + objects.sql), written for
-- ticketdb's lint tests: DELIMITER $$ blocks, views over views, functions and a procedure.

DROP DATABASE IF EXISTS employees;
CREATE DATABASE IF NOT EXISTS employees;
USE employees;

SELECT 'CREATING DATABASE STRUCTURE' as 'INFO';

DROP TABLE IF EXISTS dept_emp,
                     dept_manager,
                     titles,
                     salaries,
                     employees,
                     departments;

/*!50503 set default_storage_engine = InnoDB */;
/*!50503 select CONCAT('storage engine: ', @@default_storage_engine) as INFO */;

CREATE TABLE employees (
    emp_no      INT             NOT NULL,
    birth_date  DATE            NOT NULL,
    first_name  VARCHAR(14)     NOT NULL,
    last_name   VARCHAR(16)     NOT NULL,
    gender      ENUM ('M','F')  NOT NULL,
    hire_date   DATE            NOT NULL,
    PRIMARY KEY (emp_no)
);

CREATE TABLE departments (
    dept_no     CHAR(4)         NOT NULL,
    dept_name   VARCHAR(40)     NOT NULL,
    PRIMARY KEY (dept_no),
    UNIQUE  KEY (dept_name)
);

CREATE TABLE dept_emp (
    emp_no      INT             NOT NULL,
    dept_no     CHAR(4)         NOT NULL,
    from_date   DATE            NOT NULL,
    to_date     DATE            NOT NULL,
    FOREIGN KEY (emp_no)  REFERENCES employees   (emp_no)  ON DELETE CASCADE,
    FOREIGN KEY (dept_no) REFERENCES departments (dept_no) ON DELETE CASCADE,
    PRIMARY KEY (emp_no,dept_no)
);

CREATE TABLE salaries (
    emp_no      INT             NOT NULL,
    salary      INT             NOT NULL,
    from_date   DATE            NOT NULL,
    to_date     DATE            NOT NULL,
    FOREIGN KEY (emp_no) REFERENCES employees (emp_no) ON DELETE CASCADE,
    PRIMARY KEY (emp_no, from_date)
)
;

CREATE OR REPLACE VIEW dept_emp_latest_date AS
    SELECT emp_no, MAX(from_date) AS from_date, MAX(to_date) AS to_date
    FROM dept_emp
    GROUP BY emp_no;

# shows only the current department for each employee
CREATE OR REPLACE VIEW current_dept_emp AS
    SELECT l.emp_no, dept_no, l.from_date, l.to_date
    FROM dept_emp d
        INNER JOIN dept_emp_latest_date l
        ON d.emp_no=l.emp_no AND d.from_date=l.from_date AND l.to_date = d.to_date;

flush /*!50503 binary */ logs;

DELIMITER $$

DROP FUNCTION IF EXISTS emp_dept_id $$
CREATE FUNCTION emp_dept_id( employee_id INT )
RETURNS CHAR(4)
READS SQL DATA
BEGIN
    DECLARE max_date DATE;
    SET max_date = (
        SELECT
            MAX(from_date)
        FROM
            dept_emp
        WHERE
            emp_no = employee_id
    );
    SET @max_date = max_date;
    RETURN (
        SELECT
            dept_no
        FROM
            dept_emp
        WHERE
            emp_no = employee_id
            AND
            from_date = max_date
            LIMIT 1
    );
END $$

DROP FUNCTION IF EXISTS emp_name $$
CREATE FUNCTION emp_name (employee_id INT)
RETURNS VARCHAR(32)
READS SQL DATA
BEGIN
    RETURN (
        SELECT
            CONCAT(first_name, ' ', last_name) AS name
        FROM
            employees
        WHERE
            emp_no = employee_id
    );
END$$

DROP PROCEDURE IF EXISTS show_departments $$
CREATE PROCEDURE show_departments()
MODIFIES SQL DATA
BEGIN
    DROP TABLE IF EXISTS department_people;
    CREATE TEMPORARY TABLE department_people
    (
        emp_no INT NOT NULL,
        dept_no CHAR(4) NOT NULL,
        PRIMARY KEY (emp_no, dept_no)
    );

    INSERT INTO department_people
        SELECT emp_no, dept_no
        FROM dept_emp
        WHERE to_date = '9999-01-01';

    SELECT
        dept_no, dept_name, COUNT(*) AS employees
    FROM
        department_people
        INNER JOIN departments USING (dept_no)
    GROUP BY
        dept_no
    ORDER BY
        dept_no;
    DROP TABLE department_people;
END $$

DELIMITER ;
