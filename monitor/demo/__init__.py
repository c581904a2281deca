"""`monitor demo`: the whole product on an embedded database with a bundled corpus, no network."""
