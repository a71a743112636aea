// swift-tools-version: 6.0
// Pitstop: planned maintenance for a fleet of virtual machines.
import PackageDescription

/// Hummingbird's own settings: an existential says `any`, a module's members need its import,
/// and imports are internal unless a public signature needs them, so a store type cannot leak
/// into a service's public API without a visible `public import`.
let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Pitstop",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pitstop", targets: ["pitstop"]),
        .library(name: "PitstopCore", targets: ["PitstopCore"]),
        .library(name: "PitstopStore", targets: ["PitstopStore"]),
        .library(name: "PitstopService", targets: ["PitstopService"]),
        .library(name: "PitstopServer", targets: ["PitstopServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Pure values: fleet, windows, campaigns, planner, rules. No I/O, no SQL.
        .target(name: "PitstopCore", swiftSettings: upcoming),
        // SQLite's process-wide settings, made at load time (in C: `sqlite3_config` is variadic).
        .target(name: "SQLiteSettings", linkerSettings: [.linkedLibrary("sqlite3")]),
        // The repository layer: GRDB records, the database type, embedded SQL migrations.
        .target(
            name: "PitstopStore",
            dependencies: [
                "PitstopCore", "SQLiteSettings",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [
                .embedInCode("../../Migrations/0001_inventory.sql"),
                .embedInCode("../../Migrations/0002_scheduler.sql"),
                .embedInCode("../../Migrations/0003_audit_indexes.sql"),
                .embedInCode("../../Migrations/0004_scheduled_events.sql"),
                .embedInCode("../../Migrations/0005_audit_keys.sql"),
                .embedInCode("../../Migrations/0006_api_tokens.sql"),
                .embedInCode("../../Migrations/0007_waves.sql"),
                .embedInCode("../../Migrations/0008_vm_keys_in_fleet.sql"),
            ],
            swiftSettings: upcoming
        ),
        // The PostgreSQL store: the same repositories on a server several processes share.
        .target(
            name: "PitstopPostgres",
            dependencies: [
                "PitstopCore", "PitstopStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            resources: [
                .embedInCode("../../Migrations/postgres/0001_schema.sql"),
                .embedInCode("../../Migrations/postgres/0002_notice_compression.sql"),
                .embedInCode("../../Migrations/postgres/0003_vm_checks_per_statement.sql"),
                .embedInCode("../../Migrations/postgres/0004_fleet_names_from_vms.sql"),
            ],
            swiftSettings: upcoming
        ),
        // Use cases: each opens one unit of work on the store and composes repository calls;
        // no SQL. `.ci/check-layers` holds every target to the imports declared here.
        // Crypto signs and checks the audit log's checkpoints.
        .target(
            name: "PitstopService",
            dependencies: ["PitstopCore", "PitstopStore", "PitstopPostgres", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: upcoming
        ),
        // HTTP: the scheduled-events and instance-metadata endpoints, a thin adapter over
        // PitstopService (never the store: `.ci/check-layers` enforces it).
        .target(
            name: "PitstopServer",
            dependencies: [
                "PitstopCore", "PitstopService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // The HTTP parts of the channel handler that answers polls on the event loop.
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The timeline page at `/`, in the binary: nothing is fetched at run time.
            resources: [.embedInCode("Page/index.html"), .embedInCode("Page/app.js"), .embedInCode("Page/app.css")],
            swiftSettings: upcoming
        ),
        // The command-line tool: parsing and printing only, through PitstopService.
        .executableTarget(
            name: "pitstop",
            dependencies: [
                "PitstopCore", "PitstopService", "PitstopServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "PitstopCoreTests",
            dependencies: ["PitstopCore", "PitstopTestSupport", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        // Tests write raw SQL behind the repositories' back, so they use GRDB directly.
        .testTarget(
            name: "PitstopStoreTests",
            dependencies: [
                "PitstopStore", "PitstopCore", "PitstopTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's own counters, to see the process-wide settings took effect.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "PitstopServiceTests",
            dependencies: ["PitstopService", "PitstopStore", "PitstopCore", "PitstopTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "PitstopCLITests",
            dependencies: [
                "pitstop", "PitstopStore", "PitstopCore", "PitstopTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // The golden database of release 0006 and its answers, read from the source tree.
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "PitstopServerTests",
            dependencies: [
                // PitstopStore for test stores (one that never answers, for the 503 of /healthz;
                // one that counts reads); pitstop so that the binary the process tests run is built first.
                "pitstop", "PitstopServer", "PitstopService", "PitstopStore", "PitstopCore", "PitstopTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                // The live test servers run in a service group that no signal stops.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The poll answered on the event loop, tested as a channel handler on its own.
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            // The browser test's driver, run by python3 from its place in the tree.
            exclude: ["browser"]
        ),
        // The PostgreSQL store on its own: the URL, the migrations, the units of work.
        .testTarget(
            name: "PitstopPostgresTests",
            dependencies: ["PitstopPostgres", "PitstopStore", "PitstopCore", "PitstopTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // What several test targets share: a real SMTP server on loopback, a real PostgreSQL
        // server in a temporary directory, and the engines the contract tests run on.
        .target(
            name: "PitstopTestSupport",
            dependencies: ["PitstopStore", "PitstopPostgres", "PitstopCore", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/PitstopTestSupport"
        ),
    ]
)
