-- Concert Data Platform warehouse schema (Redshift Serverless, database concert_dw).
-- Idempotent (IF NOT EXISTS): run by `concert-platform deploy` after the storage stack.
-- The handlers read these four tables through the Data API (concert_shared.platform_data);
-- keys are informational in Redshift, so the loader replaces rows with DELETE + INSERT.
CREATE TABLE IF NOT EXISTS artists (
    artist_id   VARCHAR(64)  NOT NULL PRIMARY KEY,
    name        VARCHAR(256) NOT NULL,
    genre       VARCHAR(64),
    popularity  INTEGER
)
DISTSTYLE ALL;
CREATE TABLE IF NOT EXISTS venues (
    venue_id    VARCHAR(64)  NOT NULL PRIMARY KEY,
    name        VARCHAR(256) NOT NULL,
    city        VARCHAR(128),
    capacity    INTEGER
)
DISTSTYLE ALL;
CREATE TABLE IF NOT EXISTS concerts (
    concert_id   VARCHAR(64) NOT NULL PRIMARY KEY,
    artist_id    VARCHAR(64) NOT NULL REFERENCES artists (artist_id),
    venue_id     VARCHAR(64) NOT NULL REFERENCES venues (venue_id),
    concert_date DATE,
    base_price   DECIMAL(10, 2)
)
DISTKEY (concert_id)
SORTKEY (concert_date);
CREATE TABLE IF NOT EXISTS ticket_sales (
    concert_id   VARCHAR(64) NOT NULL REFERENCES concerts (concert_id),
    tickets_sold INTEGER     NOT NULL,
    revenue      DECIMAL(14, 2)
)
DISTKEY (concert_id);
