import Wire

/// What a `Register` must hold before the coordinator stores it: every field bounded by
/// `WireLimits`, so that a registration cannot make the coordinator keep megabytes per
/// worker or lease to a worker with four billion slots.
enum RegistrationRules {
    /// The first problem with `message`, naming the field, or nil.
    static func problem(with message: Orrery_V1_Register) -> String? {
        let id = message.workerID.utf8.count
        if id == 0 || id > WireLimits.maximumIdentifierBytes {
            return "worker_id must be 1 to \(WireLimits.maximumIdentifierBytes) bytes, got \(id)"
        }
        // 0 is proto3's unset value and means one slot.
        let slots = max(1, message.slots)
        if !WireLimits.slots.contains(slots) {
            return "slots must be in \(WireLimits.slots.lowerBound)...\(WireLimits.slots.upperBound), got \(message.slots)"
        }
        if message.maxPrefetch != 0 && (message.maxPrefetch < slots || message.maxPrefetch > slots * WireLimits.maximumPrefetchPerSlot) {
            return "max_prefetch must be 0 (no cap) or in \(slots)...\(slots * WireLimits.maximumPrefetchPerSlot) (slots to 512 per slot), got \(message.maxPrefetch)"
        }
        if message.capabilities.isEmpty || message.capabilities.count > WireLimits.maximumCapabilities {
            return "capabilities must list 1 to \(WireLimits.maximumCapabilities) workloads, got \(message.capabilities.count)"
        }
        if message.runningTaskIds.count > WireLimits.maximumRunningTasks {
            return "running_task_ids lists \(message.runningTaskIds.count) tasks; at most \(WireLimits.maximumRunningTasks)"
        }
        let names: [(String, String)] = [
            ("hostname", message.hostname), ("agent", message.agent), ("data_endpoint", message.dataEndpoint),
            ("data_endpoint_local", message.dataEndpointLocal),
        ] + message.capabilities.map { ("capabilities", $0) }
        for (field, value) in names where value.utf8.count > WireLimits.maximumNameBytes {
            return "\(field) must be at most \(WireLimits.maximumNameBytes) bytes, got \(value.utf8.count)"
        }
        if !message.curvePublicKey.isEmpty && message.curvePublicKey.count != 32 {
            return "curve_public_key must be empty or 32 bytes, got \(message.curvePublicKey.count)"
        }
        if let long = message.runningTaskIds.first(where: { $0.utf8.count > WireLimits.maximumIdentifierBytes }) {
            return "running_task_ids holds an id of \(long.utf8.count) bytes; at most \(WireLimits.maximumIdentifierBytes)"
        }
        return nil
    }
}
