// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "weighin",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // libpq's C API, from the system (Debian: libpq-dev).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // A thin async wrapper over libpq: binds, codecs, errors, pipelined connections, the pool.
        .target(
            name: "Postgres",
            dependencies: [
                "CLibPQ",
                .product(name: "DequeModule", package: "swift-collections"),
            ]),
        // A PostgreSQL cluster of the project's own (initdb/pg_ctl), for `serve` without DATABASE_URL and for tests.
        .target(name: "PrivateCluster", dependencies: ["Postgres"]),
        // The sql/ migration files, applied in order under an advisory lock.
        .target(
            name: "Migrations",
            dependencies: [
                "Postgres",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "WeighinTests",
            dependencies: ["Postgres", "PrivateCluster", "Migrations"]),
    ],
    swiftLanguageModes: [.v6]
)
