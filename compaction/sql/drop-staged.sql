DROP TABLE staged;
