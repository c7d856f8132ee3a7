# A script that uses the two local packages (workloads/packages): their package caches, built from their tests
# (`node dist/cli.js package-cache workloads/packages/TinyStats --cache DIR`, then TinyReports), make main()'s first
# call cheap in a fresh session. Needs JULIA_LOAD_PATH to include workloads/packages.
using TinyReports

main() = report([Column("latency", [12.0, 15.5, 11.2, 13.9, 14.1, 12.7, 48.0]),
                 Column("size", [100, 140, 90, 120, 130, 110, 115])]; limit = 2.0)
