import Foundation
import OrreryTestSupport
import Testing
import Workloads

@Suite("Job spec validation")
struct JobSpecTests {
    func parse(_ yaml: String) throws(SpecError) -> ValidatedJob {
        try JobSpec.parse(yaml: yaml, source: "jobs/test.yaml", registry: .builtIn)
    }

    func error(_ yaml: String) -> SpecError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch {
            return error
        }
    }

    @Test("every job file the repository ships validates (a README command or results script never meets a stale spec)")
    func shippedJobs() throws {
        let directory = PackageRoot.url.appendingPathComponent("jobs")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 40)
        for file in files {
            let yaml = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            #expect(throws: Never.self, "jobs/\(file)") { try JobSpec.parse(yaml: yaml, source: "jobs/\(file)", registry: .builtIn) }
        }
    }

    @Test("a good spec gives its fields and a planner")
    func valid() throws {
        let job = try parse(
            """
            name: grid
            workload: sweep
            max_attempts: 5
            task_timeout: 1.5s
            max_in_flight: 8
            sweep:
              function: rosenbrock
              dimensions: 3
              strategy: random
              points: 100
              batch: 10
            """)
        #expect(job.spec.name == "grid")
        #expect(job.spec.workload.kind == "sweep")
        #expect(job.spec.maxAttempts == 5)
        #expect(job.spec.taskTimeoutMilliseconds == 1500)
        #expect(job.spec.maxInFlight == 8)
        #expect(job.planner.expectedTaskCount == 10)
    }

    @Test("a missing field is named with the line of its mapping")
    func missingField() {
        let e = error("workload: sweep\nsweep:\n  function: branin\n")
        #expect(e?.field == "name")
        #expect(e?.line == 1)
        #expect(e?.description.hasPrefix("jobs/test.yaml:1:1: name: is required") == true)
    }

    @Test("a misspelt field is rejected at its line, with a suggestion")
    func unknownField() {
        let e = error("name: x\nworkload: sweep\nsweep:\n  function: branin\n  pionts: 40\n")
        #expect(e?.field == "sweep.pionts")
        #expect(e?.line == 5)
        #expect(e?.column == 3)
        #expect(e?.message.contains("did you mean 'points'") == true)
    }

    @Test("a value of the wrong type names the field, the line and what was found")
    func wrongType() {
        let e = error("name: x\nworkload: sweep\nsweep:\n  function: branin\n  points: many\n")
        #expect(e?.description == "jobs/test.yaml:5:11: sweep.points: expected an integer, got 'many'")
    }

    @Test("an unknown workload lists the known ones")
    func unknownWorkload() {
        let e = error("name: x\nworkload: swep\n")
        #expect(e?.field == "workload")
        #expect(e?.line == 2)
        #expect(e?.message.contains("noop, pipeline, prompt-search, prompt-tune, sweep, train") == true)
        #expect(e?.message.contains("did you mean 'sweep'") == true)
    }

    @Test("out-of-range numbers, bad durations and bad choices are refused", arguments: [
        ("name: x\nworkload: noop\nmax_attempts: 0\nnoop:\n  tasks: 1\n", "max_attempts", 3),
        ("name: x\nworkload: noop\ntask_timeout: soon\nnoop:\n  tasks: 1\n", "task_timeout", 3),
        ("name: x\nworkload: noop\nnoop:\n  tasks: -4\n", "noop.tasks", 4),
        ("name: x\nworkload: sweep\nsweep:\n  function: branin\n  strategy: annealing\n", "sweep.strategy", 5),
        ("name: x\nworkload: sweep\nsweep:\n  function: branin\n  dimensions: 3\n", "sweep.dimensions", 5),
        ("name: x\nworkload: sweep\nsweep:\n  function: rastrigin\n  dimensions: 8\n  points: 100\n", "sweep.points", 6),
    ])
    func badValues(yaml: String, field: String, line: Int) {
        let e = error(yaml)
        #expect(e?.field == field)
        #expect(e?.line == line)
    }

    @Test("broken YAML is reported with its line")
    func syntax() {
        let e = error("name: x\nworkload: [sweep\nsweep: {\n")
        #expect(e?.line != nil)
        #expect(e?.message.hasPrefix("not valid YAML") == true)
    }

    @Test("an empty document and a non-mapping are refused")
    func emptyAndScalar() {
        #expect(error("")?.message == "the spec is empty")
        #expect(error("just text")?.message.hasPrefix("expected a mapping") == true)
    }

    @Test("a field given twice is refused at its second line, naming it and its first")
    func duplicateField() {
        let e = error("workload: noop\nname: x\nname: y\nnoop:\n  tasks: 1\n")
        #expect(e?.field == "name")
        #expect(e?.line == 3)
        #expect(e?.message == "appears more than once in the same mapping (first at line 2)")
        let nested = error("name: x\nworkload: train\ntrain:\n  dataset: digits\n  epochs: 1\n  hidden: [8]\n  epochs : 2\n")
        #expect(nested?.field == "epochs")
        #expect(nested?.line == 7 && nested?.column == 3)
        let top = error("name: x\nworkload: noop\nnoop:\n  tasks: 1\n  name: inner\nname: y\n")
        #expect(top?.line == 6, "\(String(describing: top))")
    }
}
