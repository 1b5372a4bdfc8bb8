#!/bin/sh
exec /app/server --config /app/config.toml
