import Foundation
import Tracking

/// The certificates the listeners use, as PEM text.
struct TLSMaterial: Sendable {
  /// The chain both listeners present, leaf first.
  var certificateChainPEM: String
  /// The leaf's private key.
  var privateKeyPEM: String
  /// The CA certificates that may sign partners' client certificates.
  var clientCAPEM: String

  /// Reads the configured files, or the development PKI (creating it if needed).
  /// - Returns: The material, and the development files created now (to tell the operator).
  static func load(
    for configuration: GatewayConfiguration
  ) throws -> (TLSMaterial, created: [String]) {
    if let files = configuration.tls {
      func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
          throw ConfigurationError("cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
      }
      return (
        TLSMaterial(
          certificateChainPEM: try read(files.certificateChain),
          privateKeyPEM: try read(files.privateKey),
          clientCAPEM: try read(files.clientCA)
        ),
        []
      )
    }
    let pki = DevelopmentPKI(
      directory: configuration.pkiDirectory,
      trustDomain: configuration.trustDomain
    )
    let created = try pki.ensure(
      serverHosts: [configuration.partner.host, configuration.publicListener.host]
        + (configuration.web.map { [$0.host] } ?? [])
        + (configuration.oversightWeb.map { [$0.host] } ?? [])
    )
    // ensure() just made sure both exist.
    let server = try pki.read("server")!
    let ca = try pki.read("ca")!
    return (
      TLSMaterial(
        certificateChainPEM: server.certificatePEM + ca.certificatePEM,
        privateKeyPEM: server.privateKeyPEM,
        clientCAPEM: ca.certificatePEM
      ),
      created
    )
  }
}

extension TLSMaterial {
  /// Splits a PEM file into its certificates (NIOSSL loads one certificate per source).
  static func pemBlocks(_ pem: String) -> [String] {
    let end = "-----END CERTIFICATE-----"
    var blocks: [String] = []
    var rest = Substring(pem)
    while let begin = rest.range(of: "-----BEGIN CERTIFICATE-----"),
      let finish = rest.range(of: end, range: begin.upperBound ..< rest.endIndex)
    {
      blocks.append(String(rest[begin.lowerBound ..< finish.upperBound]) + "\n")
      rest = rest[finish.upperBound...]
    }
    return blocks
  }
}
