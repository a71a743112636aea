// swift-tools-version: 6.0
// Pitstop: planned maintenance for a fleet of virtual machines.
import PackageDescription

let package = Package(
    name: "Pitstop",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pitstop", targets: ["pitstop"]),
        .library(name: "PitstopCore", targets: ["PitstopCore"]),
        .library(name: "PitstopStore", targets: ["PitstopStore"]),
        .library(name: "PitstopService", targets: ["PitstopService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // Pure values: fleet, windows, campaigns, planner, rules. No I/O, no SQL.
        .target(name: "PitstopCore"),
        // The repository layer: GRDB records, the database type, embedded SQL migrations.
        .target(
            name: "PitstopStore",
            dependencies: [
                "PitstopCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [
                .embedInCode("../../Migrations/0001_inventory.sql"),
                .embedInCode("../../Migrations/0002_scheduler.sql"),
                .embedInCode("../../Migrations/0003_audit_indexes.sql"),
                .embedInCode("../../Migrations/0004_scheduled_events.sql"),
            ]
        ),
        // Use cases: each opens one unit of work on the store and composes repository calls;
        // no SQL. `.ci/check-layers` holds every target to the imports declared here.
        .target(name: "PitstopService", dependencies: ["PitstopCore", "PitstopStore"]),
        // The command-line tool: parsing and printing only, through PitstopService.
        .executableTarget(
            name: "pitstop",
            dependencies: [
                "PitstopCore", "PitstopService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "PitstopCoreTests",
            dependencies: ["PitstopCore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        // Tests write raw SQL behind the repositories' back, so they use GRDB directly.
        .testTarget(
            name: "PitstopStoreTests",
            dependencies: ["PitstopStore", "PitstopCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "PitstopServiceTests",
            dependencies: ["PitstopService", "PitstopStore", "PitstopCore", "PitstopTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "PitstopCLITests",
            dependencies: [
                "pitstop", "PitstopStore", "PitstopTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What several test targets share: a real SMTP server on loopback.
        .target(name: "PitstopTestSupport", path: "Tests/PitstopTestSupport"),
    ]
)
