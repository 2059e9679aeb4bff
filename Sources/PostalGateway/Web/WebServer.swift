import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Tracking

/// The citizens' web address as a service of the group (Hummingbird's `Application`): HTTPS
/// with the public listener's certificate (or plain HTTP on loopback behind a proxy that
/// terminates TLS), started with the listeners and drained with them at shutdown.
struct WebServer: Service, CustomStringConvertible {
  var description: String { "WebServer" }

  let listener: GatewayConfiguration.Listener
  let web: CitizenWeb
  let tls: TLSMaterial
  let health: GatewayHealth
  let logger: Logger
  private let bound = BoundPort()

  init(
    listener: GatewayConfiguration.Listener,
    web: CitizenWeb,
    tls: TLSMaterial,
    health: GatewayHealth,
    logger: Logger
  ) {
    self.listener = listener
    self.web = web
    self.tls = tls
    self.health = health
    self.logger = logger
  }

  /// The port it listens on, once bound (a configured port 0 picks one).
  func listeningPort() async -> Int { await self.bound.wait() }

  func run() async throws {
    let server: HTTPServerBuilder
    if self.listener.plaintext {
      server = .http1()
    } else {
      server = try .tls(.http1(), tlsConfiguration: try self.serverTLS())
    }
    let bound = self.bound
    let logger = self.logger
    let address = self.listener
    let application = Application(
      router: self.web.router(),
      server: server,
      configuration: ApplicationConfiguration(
        address: .hostname(
          address.host == "localhost" ? "127.0.0.1" : address.host,
          port: address.port
        ),
        serverName: nil
      ),
      onServerRunning: { channel in
        let port = channel.localAddress?.port ?? address.port
        bound.set(port)
        logger.info(
          "listening",
          metadata: ["listener": "web", "listener.address": "\(address.host):\(port)"]
        )
      },
      logger: self.logger
    )
    try await application.run()
  }

  private func serverTLS() throws -> TLSConfiguration {
    do {
      let chain = try TLSMaterial.pemBlocks(self.tls.certificateChainPEM).map {
        NIOSSLCertificateSource.certificate(
          try NIOSSLCertificate(bytes: Array($0.utf8), format: .pem)
        )
      }
      let key = try NIOSSLPrivateKey(bytes: Array(self.tls.privateKeyPEM.utf8), format: .pem)
      var configuration = TLSConfiguration.makeServerConfiguration(
        certificateChain: chain,
        privateKey: .privateKey(key)
      )
      configuration.minimumTLSVersion = .tlsv12
      return configuration
    } catch {
      throw ConfigurationError("the web address's certificate or key cannot be used: \(error)")
    }
  }
}
