/**
 * The engine's configuration as one context object: named defaults, fluent setters, and a single
 * {@code conclude()} that validates and derives (e.g. the connection limit from RLIMIT_NOFILE). It parses
 * value syntaxes (durations, sizes, HOST:PORT) for every front end, but never reads flags or files itself.
 */
package io.centrigate.config;
