import Synchronization
import Tracking

/// The port a listener bound (a configured port 0 picks one), for whoever waits for it.
final class BoundPort: Sendable {
  private let port = Mutex<Int?>(nil)
  private let signal = ChangeSignal()

  /// Records the port and wakes the waiters.
  func set(_ value: Int) {
    self.port.withLock { $0 = value }
    self.signal.bump()
  }

  /// The port, once bound.
  func wait() async -> Int {
    while true {
      let version = self.signal.version
      if let port = self.port.withLock({ $0 }) { return port }
      await self.signal.wait(from: version)
    }
  }
}
