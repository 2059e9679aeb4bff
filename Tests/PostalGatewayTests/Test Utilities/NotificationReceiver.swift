import Foundation
import Glibc
import TestProcesses
import Tracking

@testable import PostalGateway

/// A real HTTP receiver of notifications (`Tests/receivers/notification_receiver.py`) in its own
/// process: an SMS provider, a Zalo endpoint or a webhook subscriber that verifies signatures
/// with the Python `standardwebhooks` library. Each request it got is a line of its log.
final class NotificationReceiver: Sendable {
  /// One request as the receiver saw it.
  struct Record: Decodable, Sendable {
    var id: String?
    var status: Int
    var verified: Bool?
    /// Whether the message id was new to the receiver (a repeat is dropped).
    var new: Bool
    var headers: [String: String]
    var body: JSONValue?
  }

  let process: ChildProcess
  let port: Int
  let log: String

  /// Starts a receiver and waits until it listens.
  /// - Parameters:
  ///   - mode: `sms`, `zalo` or `webhook`.
  ///   - port: A port to listen on (0: any).
  ///   - arguments: More arguments (`--fail-first N`, `--secret whsec_…`).
  ///   - tls: Serve HTTPS with the test PKI's server certificate.
  init(mode: String, port: Int = 0, arguments: [String] = [], tls: Bool = false) throws {
    let directory = temporaryDirectory()
    self.log = (directory as NSString).appendingPathComponent("received.jsonl")
    var command = [
      "python3", Self.script, "--mode", mode, "--log", self.log, "--port", String(port),
    ]
    if tls {
      let cert = (directory as NSString).appendingPathComponent("receiver.pem")
      let key = (directory as NSString).appendingPathComponent("receiver-key.pem")
      try TestPKI.shared.server.certificatePEM.write(
        toFile: cert,
        atomically: true,
        encoding: .utf8
      )
      try TestPKI.shared.server.privateKeyPEM.write(toFile: key, atomically: true, encoding: .utf8)
      command += ["--cert", cert, "--key", key]
    }
    self.process = try ChildProcess.spawn(command + arguments)
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
      let chunk = self.process.output.availableData
      guard !chunk.isEmpty else { break }
      line.append(chunk)
    }
    let text = String(decoding: line, as: UTF8.self)
    guard let range = text.range(of: "listening on "),
      let port = Int(text[range.upperBound...].prefix { $0.isNumber })
    else {
      kill(self.process.pid, SIGKILL)
      self.process.wait()
      throw ReceiverError(description: "the receiver did not start: \(text)")
    }
    self.port = port
  }

  /// Everything it received so far, in order.
  func records() throws -> [Record] {
    guard let data = FileManager.default.contents(atPath: self.log) else { return [] }
    return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
      try JSONDecoder().decode(Record.self, from: Data($0.utf8))
    }
  }

  /// Stops it (SIGKILL: a child of the test process inherits its blocked SIGTERM).
  func stop() {
    kill(self.process.pid, SIGKILL)
    self.process.wait()
  }

  /// A port where nothing listens, held by a socket that is bound but not listening: a
  /// connection there is refused, and no other test can take the port meanwhile. A receiver
  /// started on it later binds it too (both allow address reuse); then ``PortHold/release()``.
  static func holdPort() throws -> PortHold {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var yes: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard bound else {
      close(fd)
      throw ReceiverError(description: "no free port")
    }
    return PortHold(fd: fd, port: Int(UInt16(bigEndian: address.sin_port)))
  }

  private static var script: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("receivers/notification_receiver.py")
      .path
  }
}

/// A port held by a bound, not listening socket.
struct PortHold: Sendable {
  let fd: Int32
  let port: Int

  /// Lets the port go.
  func release() { close(self.fd) }
}

struct ReceiverError: Error, CustomStringConvertible {
  var description: String
}

/// Any JSON value, to look into what a receiver got.
enum JSONValue: Decodable, Sendable, Equatable {
  case string(String)
  case number(Double)
  case bool(Bool)
  case array([JSONValue])
  case object([String: JSONValue])
  case null

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  subscript(key: String) -> JSONValue? {
    if case .object(let object) = self { return object[key] }
    return nil
  }

  var string: String? {
    if case .string(let value) = self { return value }
    return nil
  }
}

extension RunningGateway {
  /// Waits, on the store's commit notifications (no polling), until `check` finds what it
  /// looks for in the notification outbox; fails after `timeout` of real time.
  func eventually<T: Sendable>(
    timeout: Duration = .seconds(30),
    _ check: @Sendable () async throws -> T?
  ) async throws -> T {
    let feed = self.gateway.feed
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
      let position = feed.position()
      if let value = try await check() { return value }
      guard ContinuousClock.now < deadline else {
        throw ReceiverError(description: "the outbox did not reach the expected state in time")
      }
      await withTaskGroup(of: Void.self) { group in
        group.addTask { await feed.wait(for: [.notifications], after: position) }
        group.addTask { try? await Task.sleep(until: deadline) }
        await group.next()
        group.cancelAll()
      }
    }
  }

  /// The shipment's messages, newest first.
  func notifications(of number: String) async throws -> [OutboundNotification] {
    try await self.stores.notifications.notifications(
      matching: NotificationQuery(trackingNumber: try TrackingNumber(validating: number))
    )
  }
}
