import Foundation
import Testing

@testable import PostalGateway

/// A listener off loopback needs production certificates and a catalog, unless development
/// mode is asked for.
@Suite("Production mode")
struct ProductionModeTests {
  static func configuration(
    partner: String,
    tls: Bool = false,
    catalog: Bool = false,
    development: Bool = false
  ) throws -> GatewayConfiguration {
    var configuration = GatewayConfiguration()
    configuration.partner = try .init(address: partner)
    if tls {
      configuration.tls = .init(
        certificateChain: "server.pem",
        privateKey: "key.pem",
        clientCA: "ca.pem"
      )
    }
    if catalog {
      configuration.catalogPath = "catalog.json"
      configuration.keyEncryptionKeyPath = "/etc/postal-gateway/kek.json"
    }
    configuration.development = development
    return configuration
  }

  @Test("on loopback the development CA and the sample catalog are allowed")
  func loopback() throws {
    #expect(try Self.configuration(partner: "127.0.0.1:7443").missingForProduction.isEmpty)
    try Self.configuration(partner: "localhost:0").validate()
  }

  @Test("off loopback, a missing certificate, catalog or key file is named and refused")
  func offLoopback() throws {
    let bare = try Self.configuration(partner: "0.0.0.0:7443")
    #expect(bare.missingForProduction.count == 3)
    #expect(throws: ConfigurationError.self) { try bare.validate() }
    let noCatalog = try Self.configuration(partner: "10.0.0.5:7443", tls: true)
    #expect(
      noCatalog.missingForProduction.map { $0.components(separatedBy: " ")[0] } == [
        "catalog", "encryption.keyFile",
      ]
    )
    try Self.configuration(partner: "0.0.0.0:7443", tls: true, catalog: true).validate()
  }

  @Test("--development allows the development material anywhere")
  func development() throws {
    let configuration = try Self.configuration(partner: "0.0.0.0:7443", development: true)
    try configuration.validate()
    #expect(configuration.usesDevelopmentMaterial)
  }
}
