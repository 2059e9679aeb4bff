import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import SwiftASN1
import SwiftProtobuf
import Tracking
import X509

/// Connection options shared by the client commands. Defaults use the development PKI in the
/// data directory.
struct ClientOptions: ParsableArguments {
  @Option(
    help:
      "Server host:port. Default $POSTAL_GATEWAY_PARTNER or 127.0.0.1:7443 (partner), $POSTAL_GATEWAY_PUBLIC or 127.0.0.1:8443 (track, custody)."
  )
  var server: String?

  @Option(help: "Data directory whose pki/ holds the default certificates. Default ./postal-data.")
  var dataDir = "./postal-data"

  @Option(
    help:
      "Client certificate (PEM). Default <data-dir>/pki/<role>.pem for the command's role: staff.pem, or agency.pem (agency …), operator.pem (handoffs …, sla recompute), oversight.pem (sla explain|alerts|report, audit list)."
  )
  var cert: String?

  @Option(help: "Client private key (PEM). Default <data-dir>/pki/<role>-key.pem, as --cert.")
  var key: String?

  @Option(help: "CA that signed the server's certificate (PEM). Default <data-dir>/pki/ca.pem.")
  var ca: String?

  @Flag(help: "Print the response as JSON.")
  var json = false

  /// A file of `<data-dir>/pki`.
  func pki(_ name: String) -> String {
    ((self.dataDir as NSString).appendingPathComponent("pki") as NSString).appendingPathComponent(
      name
    )
  }

  /// Mutual TLS with the role's certificate (or `--cert`/`--key`), trusting the CA.
  func mutualTLS(as identity: String = "staff") -> HTTP2ClientTransport.Posix.TransportSecurity {
    self.mutualTLS(
      certificate: self.cert ?? self.pki("\(identity).pem"),
      key: self.key ?? self.pki("\(identity)-key.pem")
    )
  }

  /// Mutual TLS with the given certificate and key, trusting the CA.
  func mutualTLS(certificate: String, key: String) -> HTTP2ClientTransport.Posix.TransportSecurity {
    .mTLS(
      certificateChain: [.file(path: certificate, format: .pem)],
      privateKey: .file(path: key, format: .pem)
    ) {
      $0.trustRoots = .certificates([.file(path: self.ca ?? self.pki("ca.pem"), format: .pem)])
    }
  }

  /// TLS trusting the CA, without a client certificate.
  func serverTLS() -> HTTP2ClientTransport.Posix.TransportSecurity {
    .tls {
      $0.trustRoots = .certificates([.file(path: self.ca ?? self.pki("ca.pem"), format: .pem)])
    }
  }

  /// The partner listener's address: `--server`, `$POSTAL_GATEWAY_PARTNER` or 127.0.0.1:7443.
  var partnerAddress: String { self.server ?? Self.defaultPartnerAddress }

  /// The public listener's address: `--server`, `$POSTAL_GATEWAY_PUBLIC` or 127.0.0.1:8443.
  var publicAddress: String { self.server ?? Self.defaultPublicAddress }

  /// The partner listener's address without `--server`: `$POSTAL_GATEWAY_PARTNER` or
  /// 127.0.0.1:7443.
  static var defaultPartnerAddress: String {
    Self.environment("POSTAL_GATEWAY_PARTNER") ?? "127.0.0.1:7443"
  }

  /// The public listener's address without `--server`: `$POSTAL_GATEWAY_PUBLIC` or
  /// 127.0.0.1:8443.
  static var defaultPublicAddress: String {
    Self.environment("POSTAL_GATEWAY_PUBLIC") ?? "127.0.0.1:8443"
  }

  /// Runs `body` with a client of the partner listener, over mutual TLS.
  func withPartnerClient<T: Sendable>(
    as identity: String = "staff",
    _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
  ) async throws -> T {
    try await self.withClient(
      address: self.partnerAddress,
      security: self.mutualTLS(as: identity),
      body
    )
  }

  /// Runs `body` with a client of the public listener, over TLS (or plaintext).
  func withPublicClient<T: Sendable>(
    plaintext: Bool,
    _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
  ) async throws -> T {
    let security: HTTP2ClientTransport.Posix.TransportSecurity =
      plaintext ? .plaintext : self.serverTLS()
    return try await self.withClient(
      address: self.publicAddress,
      security: security,
      body
    )
  }

  private static func environment(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
  }

  private func withClient<T: Sendable>(
    address: String,
    security: HTTP2ClientTransport.Posix.TransportSecurity,
    _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T
  ) async throws -> T {
    let transport = try HTTP2ClientTransport.Posix(
      target: try Self.target(address),
      transportSecurity: security
    )
    do {
      return try await withGRPCClient(transport: transport) { client in try await body(client) }
    } catch let error as RPCError {
      throw ClientError(error)
    }
  }

  /// Where `host:port` resolves to: an IPv4 or IPv6 address, or a DNS name.
  static func target(_ address: String) throws -> any ResolvableTarget {
    let listener = try GatewayConfiguration.Listener(address: address)
    return listener.host.contains(":")
      ? .ipv6(address: listener.host, port: listener.port)
      : listener.host.allSatisfy({ $0.isNumber || $0 == "." })
        ? .ipv4(address: listener.host, port: listener.port)
        : .dns(host: listener.host, port: listener.port)
  }

  /// The SPIFFE ID in the client certificate (the caller's identity).
  var callerID: String {
    get throws {
      let path = self.cert ?? self.pki("staff.pem")
      guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read \(path)")
      }
      let certificate = try Certificate(pemEncoded: String(decoding: data, as: UTF8.self))
      if let names = try certificate.extensions.subjectAlternativeNames {
        for name in names {
          if case .uniformResourceIdentifier(let uri) = name { return uri }
        }
      }
      throw ValidationError("\(path) carries no SPIFFE ID")
    }
  }

  /// Prints a message as JSON, or as the given text.
  func emit(_ message: some SwiftProtobuf.Message, text: () -> String) throws {
    if self.json {
      var options = JSONEncodingOptions()
      options.preserveProtoFieldNames = true
      print(try message.jsonString(options: options))
    } else {
      print(text())
    }
    // Streaming commands print as messages arrive: a pipe must see each line at once.
    fflush(nil)
  }
}

/// An RPC failure, printed with its code, message and field violations.
struct ClientError: Error, CustomStringConvertible {
  let error: RPCError

  init(_ error: RPCError) { self.error = error }

  var description: String {
    var lines = ["\(self.error.code): \(self.error.message)"]
    if let status = try? self.error.unpackGoogleRPCStatus() {
      for detail in status.details {
        if let badRequest = detail.badRequest {
          for violation in badRequest.violations {
            lines.append("  field \(violation.field): \(violation.violationDescription)")
          }
        } else if let retry = detail.retryInfo {
          lines.append("  retry after \(retry.delay)")
        }
      }
    }
    return lines.joined(separator: "\n")
  }
}

/// Parses an ISO 8601 time such as `2026-11-29T09:30:00+07:00` (fractional seconds allowed).
func parseISOTime(_ text: String, option: String) throws -> Timestamp {
  let formatter = ISO8601DateFormatter()
  formatter.formatOptions = [.withInternetDateTime]
  let fractional = ISO8601DateFormatter()
  fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
  guard let date = formatter.date(from: text) ?? fractional.date(from: text) else {
    throw ValidationError("\(option) must be an ISO 8601 time such as 2026-11-29T09:30:00+07:00")
  }
  return Timestamp(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
}

/// Renders a time in Vietnam (UTC+7) for people.
func vietnamTime(_ timestamp: Timestamp) -> String {
  let formatter = DateFormatter()
  formatter.locale = Locale(identifier: "en_US_POSIX")
  formatter.timeZone = TimeZone(secondsFromGMT: 7 * 3600)
  formatter.dateFormat = "yyyy-MM-dd HH:mm:ss xxx"
  return formatter.string(
    from: Date(timeIntervalSince1970: Double(timestamp.microseconds) / 1_000_000)
  )
}
