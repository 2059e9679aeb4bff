import Proto
import Synchronization
import Tracking

/// What the health service reports, derived from three facts: where the gateway is in its life
/// (starting, serving, draining), which listeners are up, and whether the store can write.
///
/// - Starting (before both listeners are bound) and draining (after graceful shutdown began):
///   every service is `NOT_SERVING`.
/// - Store not writable: the services that write (counter, agency, operator, signing keys) are
///   `NOT_SERVING`, and so is the partner listener as a whole (`""`); read-only ones (tracking,
///   custody proofs, oversight reports) keep serving.
final class GatewayHealth: Sendable {
  private enum Phase { case starting, serving, draining }

  private struct State {
    var phase = Phase.starting
    var listenersUp: Set<String> = []
    var storeWritable = true
  }

  private let state = Mutex(State())
  let partner: HealthStatus
  let publicListener: HealthStatus
  /// The services that need the store to write.
  let writers: Set<String>
  /// The listeners that must be up before the gateway serves.
  let listeners: Set<String>

  init(partner: HealthStatus, publicListener: HealthStatus, writers: Set<String>) {
    self.partner = partner
    self.publicListener = publicListener
    self.writers = writers
    self.listeners = ["partner", "public"]
  }

  /// A listener is bound and serving.
  func listenerStarted(_ name: String) {
    self.update { state in
      state.listenersUp.insert(name)
      if state.phase == .starting, state.listenersUp.isSuperset(of: self.listeners) {
        state.phase = .serving
      }
    }
  }

  /// The store's writes started failing, or work again.
  func storeChanged(writable: Bool) { self.update { $0.storeWritable = writable } }

  /// Graceful shutdown began.
  func beginDraining() { self.update { $0.phase = .draining } }

  /// Whether the gateway reports itself serving as a whole.
  var isServing: Bool { self.partner.status(of: "") == .serving }

  /// Returns once both listeners report `SERVING` (or they shut down first).
  func waitUntilServing() async {
    for listener in [self.partner, self.publicListener] {
      for await status in listener.updates(of: "") where status == .serving { break }
    }
  }

  /// Changes the facts and publishes the statuses they give, under one lock: two changes at
  /// once (both listeners coming up, say) must not publish out of order and leave a stale
  /// `NOT_SERVING` behind.
  private func update(_ body: (inout State) -> Void) {
    self.state.withLock { state in
      body(&state)
      for listener in [self.partner, self.publicListener] {
        listener.set(self.statuses(of: listener, in: state))
      }
    }
  }

  private func statuses(of listener: HealthStatus, in state: State) -> [String: HealthStatus.Status]
  {
    var statuses: [String: HealthStatus.Status] = [:]
    for service in listener.services where !service.isEmpty {
      let serving: Bool
      switch state.phase {
      case .starting, .draining:
        serving = false
      case .serving:
        serving = state.storeWritable || !self.writers.contains(service)
      }
      statuses[service] = serving ? .serving : .notServing
    }
    // The listener as a whole serves when all of its services do.
    statuses[""] =
      state.phase == .serving && statuses.values.allSatisfy { $0 == .serving }
      ? .serving : .notServing
    return statuses
  }
}
