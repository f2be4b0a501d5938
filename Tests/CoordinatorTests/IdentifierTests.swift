import Testing

@testable import Coordinator

@Suite("Typed identifiers")
struct IdentifierTests {
    @Test("a task id splits at its first slash: keys may hold more, the job may not be empty")
    func taskIDs() throws {
        let id = try #require(TaskID(wire: "ab12-3/trial/7"))
        #expect(id.job == "ab12-3")
        #expect(id.key == "trial/7")
        #expect(id == TaskID(job: "ab12-3", key: "trial/7"))
        #expect(id.wire == "ab12-3/trial/7")
        #expect(TaskID(wire: "no-slash") == nil)
        #expect(TaskID(wire: "/key") == nil)
        #expect(TaskID(wire: "j/")?.key == "")
        // Keys with multi-byte characters come back whole.
        #expect(TaskID(job: "j", key: "prompt «é»/1").key == "prompt «é»/1")
    }

    @Test("a job id from outside is refused when the coordinator could not have made it")
    func jobIDs() {
        // (Through variables: `JobID("…")` with a literal is the literal initializer.)
        let empty = "", slashed = "a/b", made = "ab12-3"
        #expect(JobID(empty) == nil)
        #expect(JobID(slashed) == nil)
        #expect(JobID(made)?.rawValue == "ab12-3")
        #expect(JobID(coordinatorSuffix: "ab12", number: 3) == "ab12-3")
    }

    @Test("task ids hash and compare by their wire form alone")
    func taskIDIdentity() {
        let made = TaskID(job: "j", key: "k")
        let parsed: TaskID = "j/k"
        #expect(Set([made, parsed]).count == 1)
        #expect(TaskID(job: "j", key: "a") < TaskID(job: "j", key: "b"))
    }
}
