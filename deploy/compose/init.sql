-- Run once by the postgres image on an empty data directory: the source database with its two
-- tables and the Iceberg catalog's database. Tidemark creates its publication and slot itself.
CREATE DATABASE shop;
CREATE DATABASE iceberg_catalog;
\connect shop
CREATE TABLE public.customers (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    email text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES public.customers (id),
    status text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
