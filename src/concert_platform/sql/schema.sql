-- Concert Data Platform warehouse schema (Redshift Serverless, database concert_dw).
-- Idempotent: run by `concert-platform deploy` and infrastructure/initialize_redshift_schema.py.
CREATE TABLE IF NOT EXISTS artists (
    artist_id   VARCHAR(64)  NOT NULL PRIMARY KEY,
    name        VARCHAR(256) NOT NULL,
    genre       VARCHAR(64),
    popularity  INTEGER
);
CREATE TABLE IF NOT EXISTS venues (
    venue_id    VARCHAR(64)  NOT NULL PRIMARY KEY,
    name        VARCHAR(256) NOT NULL,
    city        VARCHAR(128),
    capacity    INTEGER
);
CREATE TABLE IF NOT EXISTS concerts (
    concert_id   VARCHAR(64) NOT NULL PRIMARY KEY,
    artist_id    VARCHAR(64) NOT NULL REFERENCES artists (artist_id),
    venue_id     VARCHAR(64) NOT NULL REFERENCES venues (venue_id),
    concert_date DATE,
    base_price   DECIMAL(10, 2)
);
CREATE TABLE IF NOT EXISTS ticket_sales (
    concert_id   VARCHAR(64) NOT NULL REFERENCES concerts (concert_id),
    tickets_sold INTEGER     NOT NULL,
    revenue      DECIMAL(14, 2)
);
