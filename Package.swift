// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "weighin",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "weighin", targets: ["weighin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // libpq's C API, from the system (Debian: libpq-dev).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // glibc's malloc.h, for capping malloc arenas in the server.
        .systemLibrary(name: "CMalloc"),
        // Linux's epoll, for the event loop that reads every database connection's socket.
        .systemLibrary(name: "CEpoll"),
        // zlib's deflate, for the gzip forms of the web app's files (Debian: zlib1g-dev).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Values every layer shares: calendar dates, timestamp text, exact decimal text, hex, base64url, durations.
        .target(name: "Primitives"),
        // A thin async wrapper over libpq: binds, codecs, errors, pipelined connections, the pool.
        .target(
            name: "Postgres",
            dependencies: [
                "CEpoll", "CLibPQ", "Primitives",
                .product(name: "DequeModule", package: "swift-collections"),
            ]),
        // A PostgreSQL cluster of the project's own (initdb/pg_ctl), for `serve` without DATABASE_URL and for tests.
        .target(name: "PrivateCluster", dependencies: ["Postgres", "Primitives"]),
        // The sql/ migration files, applied in order under an advisory lock.
        .target(
            name: "Migrations",
            dependencies: [
                "Postgres", "Primitives",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // Accounts, tokens, entries and statistics: the domain, with typed errors and no HTTP.
        .target(
            name: "WeighinService",
            dependencies: [
                "Postgres", "Primitives",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Strict JSON and CSV reading and writing (exact decimals, no silent drops).
        .target(name: "WireFormats", dependencies: ["Primitives"]),
        // The HTTP front: Hummingbird router, bearer auth, problem JSON, metrics, OpenAPI document, and the web app
        // and API reference (plain files in Web/Static, copied into the resource bundle as they are).
        .target(
            name: "WeighinHTTP",
            dependencies: [
                "CMalloc", "CZlib", "Migrations", "Postgres", "Primitives", "PrivateCluster", "WeighinService",
                "WireFormats",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Web/Static")]),
        // The load generator behind `weighin loadtest`: a lean HTTP/1.1 client on SwiftNIO and HDR histograms.
        .target(
            name: "LoadTest",
            dependencies: [
                "Primitives",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]),
        // The command line: `serve`, `migrate`, `loadtest`, `users`, `tokens`. It only parses arguments.
        .executableTarget(
            name: "weighin",
            dependencies: [
                "LoadTest", "Postgres", "Primitives", "Migrations", "WeighinService", "WeighinHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "WeighinTests",
            dependencies: [
                "CLibPQ", "CZlib", "Postgres", "Primitives", "PrivateCluster", "Migrations", "WeighinService", "WeighinHTTP",
                "WireFormats", "LoadTest", "weighin",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
