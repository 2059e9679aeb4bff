import Foundation
import Synchronization

/// The server's CPU time and memory over the measured window, read from Linux's `/proc` for a
/// process id, and the load tool's own CPU time (it shares the machine).
final class LoadWindowObserver: Sendable {
  /// What the window cost.
  struct Figures: Sendable, Equatable {
    /// The server's user + system CPU seconds in the window (`nil` without a process id).
    var serverCPUSeconds: Double?
    /// The server's largest resident set seen in the window, in bytes.
    var serverPeakRSSBytes: Int?
    /// This process's user + system CPU seconds in the window.
    var clientCPUSeconds: Double
  }

  private let pid: Int32?
  private let figures = Mutex<Figures?>(nil)

  /// Observes the process `pid`, if given.
  init(pid: Int32?) { self.pid = pid }

  /// What the last window cost.
  var lastFigures: Figures? { self.figures.withLock { $0 } }

  /// Waits for the window to open, then samples the server's memory every 100 ms until
  /// cancelled, when it reads the CPU counters again.
  func sample(from opens: ContinuousClock.Instant) async {
    do { try await Task.sleep(until: opens, clock: .continuous) } catch { return }
    let serverStart = self.pid.flatMap(Self.cpuSeconds(of:))
    let clientStart = Self.ownCPUSeconds()
    var peak = self.pid.flatMap(Self.residentBytes(of:))
    while !Task.isCancelled {
      do { try await Task.sleep(for: .milliseconds(100)) } catch { break }
      if let now = self.pid.flatMap(Self.residentBytes(of:)) { peak = max(peak ?? now, now) }
    }
    let serverEnd = self.pid.flatMap(Self.cpuSeconds(of:))
    let result = Figures(
      serverCPUSeconds: serverStart.flatMap { start in serverEnd.map { $0 - start } },
      serverPeakRSSBytes: peak,
      clientCPUSeconds: Self.ownCPUSeconds() - clientStart
    )
    self.figures.withLock { $0 = result }
  }

  /// utime + stime of `/proc/<pid>/stat` (fields 14 and 15), in seconds.
  static func cpuSeconds(of pid: Int32) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = text.lastIndex(of: ")")
    else { return nil }
    // After the command name: field 3 (state) is element 0.
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
      return nil
    }
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    return (user + system) / ticks
  }

  /// `VmRSS` of `/proc/<pid>/status`, in bytes.
  static func residentBytes(of pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
      return nil
    }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      if parts.count >= 2, let kilobytes = Int(parts[1]) { return kilobytes * 1024 }
    }
    return nil
  }

  private static func ownCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
  }
}
