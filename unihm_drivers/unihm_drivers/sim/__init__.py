"""Device simulators the tests and benchmarks start on 127.0.0.1."""
