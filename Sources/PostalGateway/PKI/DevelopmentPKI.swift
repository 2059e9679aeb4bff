import Foundation
import Tracking

/// The PKI `serve` creates on first start when no certificates are configured, so a newcomer
/// can run the gateway and talk to it at once. Files, all PEM, in `<data>/pki/`:
///
/// - `ca.pem`, `ca-key.pem`: the development CA (trusted for clients and by clients);
/// - `server.pem`, `server-key.pem`: both listeners (localhost, 127.0.0.1, ::1);
/// - `staff.pem`, `staff-key.pem`: `spiffe://<trust-domain>/staff/250000/clerk-01`;
/// - `agency.pem`, `agency-key.pem`: `spiffe://<trust-domain>/agency/000.00.00.H55`.
struct DevelopmentPKI {
  /// The post office of the development staff certificate.
  static let staffPostOffice = "250000"
  /// The staff id of the development staff certificate.
  static let staffID = "clerk-01"
  /// The agency of the development agency certificate.
  static let agencyCode = "000.00.00.H55"

  let directory: String
  let trustDomain: String

  func path(_ name: String) -> String { (self.directory as NSString).appendingPathComponent(name) }

  /// The CA, creating it if absent.
  func certificateAuthority() throws -> CertificateAuthority {
    if let credential = try self.read("ca") {
      return try CertificateAuthority(credential: credential)
    }
    let authority = try CertificateAuthority.create(commonName: "PostalGateway development CA")
    try self.write(try authority.credential, as: "ca")
    return authority
  }

  /// Makes sure the CA, server, staff and agency credentials exist.
  /// - Parameter serverHosts: Extra names or addresses the server certificate must carry.
  /// - Returns: The names of files created now (empty when everything existed).
  @discardableResult
  func ensure(serverHosts: [String] = []) throws -> [String] {
    try FileManager.default.createDirectory(
      atPath: self.directory,
      withIntermediateDirectories: true
    )
    var created: [String] = []
    let hadCA = FileManager.default.fileExists(atPath: self.path("ca.pem"))
    let authority = try self.certificateAuthority()
    if !hadCA { created.append("ca.pem") }
    if try self.read("server") == nil {
      let (dns, ips) = Self.split(["localhost", "127.0.0.1", "::1"] + serverHosts)
      try self.write(
        authority.issue(.server(dnsNames: dns, ipAddresses: ips), commonName: "postal-gateway"),
        as: "server"
      )
      created.append("server.pem")
    }
    if try self.read("staff") == nil {
      // The constants are valid codes.
      let office = try PostOfficeCode(validating: Self.staffPostOffice)
      let id = SPIFFEIdentity.staff(
        trustDomain: self.trustDomain,
        postOffice: office,
        staffID: Self.staffID
      )
      try self.write(authority.issue(.client(spiffeID: id), commonName: Self.staffID), as: "staff")
      created.append("staff.pem")
    }
    if try self.read("agency") == nil {
      let agency = try AgencyCode(validating: Self.agencyCode)
      let id = SPIFFEIdentity.agency(trustDomain: self.trustDomain, agency: agency)
      try self.write(
        authority.issue(.client(spiffeID: id), commonName: Self.agencyCode),
        as: "agency"
      )
      created.append("agency.pem")
    }
    if try self.read("operator") == nil {
      let id = SPIFFEIdentity.operator(trustDomain: self.trustDomain, id: "ops-01")
      try self.write(authority.issue(.client(spiffeID: id), commonName: "ops-01"), as: "operator")
      created.append("operator.pem")
    }
    if try self.read("oversight") == nil {
      let id = SPIFFEIdentity.oversight(trustDomain: self.trustDomain, id: "so-tt-01")
      try self.write(
        authority.issue(.client(spiffeID: id), commonName: "so-tt-01"),
        as: "oversight"
      )
      created.append("oversight.pem")
    }
    if try self.read("gateway-client") == nil {
      // What the gateway presents to agency endpoints in push mode.
      let id = "spiffe://\(self.trustDomain)/gateway"
      try self.write(
        authority.issue(.client(spiffeID: id), commonName: "postal-gateway"),
        as: "gateway-client"
      )
      created.append("gateway-client.pem")
    }
    return created
  }

  /// Reads `<name>.pem` and `<name>-key.pem`, or `nil` if the certificate is absent.
  func read(_ name: String) throws -> PEMCredential? {
    let manager = FileManager.default
    guard let certificate = manager.contents(atPath: self.path("\(name).pem")) else { return nil }
    guard let key = manager.contents(atPath: self.path("\(name)-key.pem")) else {
      throw PKIError("\(self.path("\(name).pem")) exists but its key \(name)-key.pem does not")
    }
    return PEMCredential(
      certificatePEM: String(decoding: certificate, as: UTF8.self),
      privateKeyPEM: String(decoding: key, as: UTF8.self)
    )
  }

  /// Writes `<name>.pem` and `<name>-key.pem` (the key owner-only).
  func write(_ credential: PEMCredential, as name: String) throws {
    try FileManager.default.createDirectory(
      atPath: self.directory,
      withIntermediateDirectories: true
    )
    try Data(credential.certificatePEM.utf8).write(
      to: URL(fileURLWithPath: self.path("\(name).pem"))
    )
    let keyPath = self.path("\(name)-key.pem")
    try? FileManager.default.removeItem(atPath: keyPath)
    try DataDirectory.writeSecret(Data(credential.privateKeyPEM.utf8), to: keyPath)
  }

  /// Splits host names from IP literals.
  static func split(_ hosts: [String]) -> (dns: [String], ips: [String]) {
    var dns: [String] = []
    var ips: [String] = []
    for host in hosts where host != "0.0.0.0" && host != "::" {
      let isIP =
        host == "::1"
        || host.split(separator: ".").count == 4 && host.allSatisfy { $0.isNumber || $0 == "." }
      if isIP {
        if !ips.contains(host) { ips.append(host) }
      } else if !dns.contains(host) {
        dns.append(host)
      }
    }
    return (dns, ips)
  }
}
