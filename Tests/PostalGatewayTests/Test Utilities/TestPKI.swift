import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Proto
import SwiftProtobuf
import Synchronization
import Tracking

@testable import PostalGateway

/// Certificates made at run time by the project's own CA code: a CA, the server, a staff
/// member, an agency, and a staff certificate from an unrelated CA.
struct TestPKI: Sendable {
  static let trustDomain = "test.postal-gateway"

  let ca: CertificateAuthority
  let server: PEMCredential
  let staff: PEMCredential
  let otherStaff: PEMCredential
  let agency: PEMCredential
  let foreignStaff: PEMCredential
  let noIdentity: PEMCredential

  static let shared: TestPKI = {
    // The CA code under test is deterministic given its inputs; failure here is a test bug.
    let ca = try! CertificateAuthority.create(commonName: "test CA")
    let foreign = try! CertificateAuthority.create(commonName: "foreign CA")
    let office = try! PostOfficeCode(validating: "250000")
    let otherOffice = try! PostOfficeCode(validating: "251000")
    let agency = try! AgencyCode(validating: "000.00.00.H55")
    return TestPKI(
      ca: ca,
      server: try! ca.issue(
        .server(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"]),
        commonName: "server"
      ),
      staff: try! ca.issue(
        .client(
          spiffeID: SPIFFEIdentity.staff(
            trustDomain: trustDomain,
            postOffice: office,
            staffID: "clerk-01"
          )
        ),
        commonName: "clerk-01"
      ),
      otherStaff: try! ca.issue(
        .client(
          spiffeID: SPIFFEIdentity.staff(
            trustDomain: trustDomain,
            postOffice: otherOffice,
            staffID: "courier-07"
          )
        ),
        commonName: "courier-07"
      ),
      agency: try! ca.issue(
        .client(spiffeID: SPIFFEIdentity.agency(trustDomain: trustDomain, agency: agency)),
        commonName: "agency"
      ),
      foreignStaff: try! foreign.issue(
        .client(
          spiffeID: SPIFFEIdentity.staff(
            trustDomain: trustDomain,
            postOffice: office,
            staffID: "clerk-01"
          )
        ),
        commonName: "intruder"
      ),
      noIdentity: try! ca.issue(
        .client(spiffeID: "spiffe://elsewhere.example/staff/250000/x"),
        commonName: "x"
      )
    )
  }()

  var tls: TLSMaterial {
    TLSMaterial(
      certificateChainPEM: self.server.certificatePEM,
      privateKeyPEM: self.server.privateKeyPEM,
      clientCAPEM: try! self.ca.certificatePEM
    )
  }
}

/// Log records captured from a running gateway, to check what reaches the logs.
final class LogCapture: Sendable {
  private let records = Mutex<[String]>([])

  var lines: [String] { self.records.withLock { $0 } }

  var logger: Logger {
    Logger(label: "test") { _ in Handler(capture: self) }
  }

  fileprivate func append(_ line: String) { self.records.withLock { $0.append(line) } }

  private struct Handler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
      get { self.metadata[key] }
      set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
      let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
      self.capture.append("\(event.level) \(event.message) \(all)")
    }
  }
}
