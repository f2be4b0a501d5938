import CRuntimeShims
import Glibc

/// Ties a child daemon's life to the process that started it (`orrery launch`, a test).
///
/// A launcher that is killed with SIGKILL cannot stop its children, so each child asks the
/// kernel for SIGTERM when its parent goes, and exits at once if the parent is already gone.
public enum ParentWatch {
    /// - Parameter parent: the pid that started this process; when `getppid()` differs the
    ///   parent died before the watch was set, and the process exits with status 1.
    public static func exitWithParent(_ parent: Int32) {
        _ = orrery_set_parent_death_signal(SIGTERM)
        if getppid() != parent {
            exit(1)
        }
    }
}
