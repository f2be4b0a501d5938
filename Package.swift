// swift-tools-version:6.0
// Orrery: a distributed training system. Targets are layered so that dependencies point
// one way (see ARCHITECTURE.md): C libraries → Messaging/Wire → Workloads → Coordinator |
// Worker → the `orrery` command-line tool.
import Foundation
import PackageDescription

/// `ORRERY_TARGET_CPU=native` (or e.g. `x86-64-v3`) compiles the numeric kernels for that
/// CPU, as llama.cpp's GGML_NATIVE does: Swift's SIMD8 then uses AVX2 and FMA instead of
/// the baseline's SSE2. Off by default so that a binary runs on any x86-64; the benchmark
/// scripts turn it on.
let targetCPU: [SwiftSetting] = ProcessInfo.processInfo.environment["ORRERY_TARGET_CPU"].map {
    [.unsafeFlags(["-target-cpu", $0])]
} ?? []

/// The same choice for the C kernels: `-march` takes the same names.
let targetCPUForC: [CSetting] = ProcessInfo.processInfo.environment["ORRERY_TARGET_CPU"].map {
    [.unsafeFlags(["-march=\($0)"])]
} ?? []

/// The numeric kernels are optimized even in debug builds: unoptimized Swift loops run
/// 10-50× slower, which would make real-data training tests too slow for CI.
let optimizedKernels: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))] + targetCPU

let package = Package(
    name: "Orrery",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "orrery", targets: ["orrery"]),
        .library(name: "Messaging", targets: ["Messaging"]),
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "Workloads", targets: ["Workloads"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Collectives", targets: ["Collectives"]),
        .library(name: "LanguageModels", targets: ["LanguageModels"]),
        .library(name: "Search", targets: ["Search"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries, reached through module maps and pkg-config.
        .systemLibrary(
            name: "CZeroMQ", pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),

        // ZeroMQ in Swift terms: the only target that calls zmq_*.
        .target(
            name: "Messaging",
            dependencies: [
                "CZeroMQ", "Runtime", .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // Generated protobuf messages plus the frame codec and protocol version.
        .target(
            name: "Wire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Process-level plumbing shared by the daemons: lifecycle and signals, clocks, backoff, logging.
        .target(name: "CRuntimeShims"),
        // (Optimized in debug builds too: its SHA-256 digests checkpoints and weights files
        // on the coordinator's loop, and runs 100× slower unoptimized.)
        .target(
            name: "Runtime",
            dependencies: [
                "CRuntimeShims", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: optimizedKernels),
        // Loops in C where Swift cannot reach full speed: a register-tiled AVX2 matrix
        // product, and element loops where Swift's SIMD types fall back to scalar code.
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno", "-ffp-contract=off"])] + targetCPUForC),
        // Float32 tensors, reverse-mode autodiff and kernels (matrix products: CKernels' or OpenBLAS).
        .systemLibrary(name: "CMalloc"),
        .target(name: "Tensor", dependencies: ["CBLAS", "CMalloc", "CKernels"], swiftSettings: optimizedKernels),
        // Modules, layers, optimizers and schedules over Tensor.
        .target(name: "NN", dependencies: ["Tensor", "CKernels"], swiftSettings: optimizedKernels),
        // Real data sets: readers, batching, sharding. zlib reads the gzipped originals.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "Datasets", dependencies: ["Tensor", "CZlib"], swiftSettings: optimizedKernels),
        // Pretrained language models on the engine: tokenizers, MiniLM (BERT), SmolLM2 (Llama).
        .target(name: "LanguageModels", dependencies: ["Tensor", "NN", "Datasets"], swiftSettings: optimizedKernels),
        // Ring all-reduce, all-gather, broadcast and barrier between workers (the data plane).
        .target(
            name: "Collectives",
            dependencies: [
                "Messaging", "Wire", "Runtime",
                .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: optimizedKernels),
        // Files people look at rather than read: TensorBoard event files (TFRecord framing,
        // masked CRC-32C, TensorFlow's Event/Summary protobufs) and SVG charts.
        .target(
            name: "Reporting",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: optimizedKernels),
        // Search strategies in ask/tell form (exhaustive, random, successive halving,
        // regularized evolution), shared by prompt search and NAS.
        .target(name: "Search", dependencies: ["Tensor"]),
        // Job kinds: a planner (coordinator side) and an executor (worker side) per kind.
        .target(
            name: "Workloads",
            dependencies: [
                "Wire", "Runtime", "Tensor", "NN", "Datasets", "Collectives", "LanguageModels", "Search", "Reporting",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The coordinator's durable record (SQLite through GRDB): jobs, open tasks and their
        // leases, accepted outcomes, a cache of scores shared across jobs.
        .target(
            name: "Ledger",
            dependencies: ["Runtime", "Reporting", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        .target(
            name: "Coordinator",
            dependencies: [
                "Messaging", "Wire", "Workloads", "Runtime", "Ledger", "Reporting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        .target(
            name: "Worker",
            dependencies: [
                "Messaging", "Wire", "Workloads", "Runtime", "Collectives",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // HTTP for the daemons (Hummingbird): Prometheus exposition of swift-metrics
        // (swift-prometheus as the backend), bearer-token access, the server's lifetime.
        .target(
            name: "Observability",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The coordinator's web face: a JSON API over its state, live curves, the page.
        .target(
            name: "Dashboard",
            dependencies: [
                "Observability", "Coordinator", "Reporting", "Wire",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Talks to a coordinator as a client: submit, watch, status, cancel.
        .target(name: "Client", dependencies: ["Messaging", "Wire", "Runtime"]),
        .executableTarget(
            name: "orrery",
            dependencies: [
                "Coordinator", "Worker", "Client", "Workloads", "Runtime", "Messaging", "Wire", "Tensor", "NN", "Collectives",
                "LanguageModels", "Fuzzing", "Observability", "Dashboard", "Reporting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Hostile peers for real daemons: a frame fuzzer for the coordinator (as workers
        // and as clients), a fake coordinator for a worker, a flooder for a data plane.
        .target(name: "Fuzzing", dependencies: ["Messaging", "Wire", "Runtime", "Tensor"]),

        // Helpers for tests that start real `orrery` processes.
        .target(name: "OrreryTestSupport", dependencies: ["Client", "Runtime", "CRuntimeShims", "Wire", "Tensor"]),

        .testTarget(name: "MessagingTests", dependencies: ["Messaging"]),
        .testTarget(name: "CollectivesTests", dependencies: ["Collectives", "Messaging"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "OrreryTestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "Datasets", "Runtime", "OrreryTestSupport"]),
        .testTarget(name: "WireTests", dependencies: ["Wire"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime"]),
        .testTarget(name: "SearchTests", dependencies: ["Search", "Tensor"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .testTarget(name: "LanguageModelsTests", dependencies: ["LanguageModels", "NN", "Tensor", "Datasets", "OrreryTestSupport"]),
        .testTarget(
            name: "WorkloadsTests",
            dependencies: [
                "Workloads", "Wire", "OrreryTestSupport", "Collectives", "Messaging", "NN", "Tensor", "Datasets", "Search", "LanguageModels", "Runtime",
            ]),
        .testTarget(name: "CoordinatorTests", dependencies: ["Coordinator", "Workloads", "Wire", "OrreryTestSupport"]),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Reporting", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "WorkerTests", dependencies: ["Worker", "Wire", "Workloads", "Collectives", "Messaging"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["OrreryTestSupport", "Client", "Messaging", "Wire", "Fuzzing", "Runtime", "NN", "Tensor"]),
    ]
)
