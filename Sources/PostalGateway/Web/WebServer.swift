import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Tracking

/// A web address as a service of the group (Hummingbird's `Application`): the citizens' page
/// (HTTPS with the public listener's certificate, or plain HTTP on loopback behind a proxy that
/// terminates TLS) or the oversight page (mutual TLS), started with the listeners and drained
/// with them at shutdown.
struct WebServer<Context: RequestContext>: Service, CustomStringConvertible
where Context.Source == ApplicationRequestContextSource {
  var description: String { "WebServer(\(self.name))" }

  let name: String
  let listener: GatewayConfiguration.Listener
  let router: @Sendable () -> Router<Context>
  /// `nil` serves plain HTTP.
  let tls: TLSConfiguration?
  let logger: Logger
  private let bound = BoundPort()

  init(
    name: String,
    listener: GatewayConfiguration.Listener,
    router: @escaping @Sendable () -> Router<Context>,
    tls: TLSConfiguration?,
    logger: Logger
  ) {
    self.name = name
    self.listener = listener
    self.router = router
    self.tls = tls
    self.logger = logger
  }

  /// The port it listens on, once bound (a configured port 0 picks one).
  func listeningPort() async -> Int { await self.bound.wait() }

  func run() async throws {
    let server: HTTPServerBuilder
    if let tls = self.tls {
      server = try .tls(.http1(), tlsConfiguration: tls)
    } else {
      server = .http1()
    }
    let bound = self.bound
    let logger = self.logger
    let address = self.listener
    let name = self.name
    let application = Application(
      router: self.router(),
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
          metadata: ["listener": "\(name)", "listener.address": "\(address.host):\(port)"]
        )
      },
      logger: self.logger
    )
    try await application.run()
  }

  /// The server side of TLS with the gateway's certificate; with `clientCAPEM`, a client
  /// certificate chained to it is required (mutual TLS).
  /// - Throws: ``ConfigurationError`` when the certificate, key or CA cannot be used.
  static func serverTLS(
    _ material: TLSMaterial,
    requiringClientsOf clientCAPEM: String? = nil
  )
    throws -> TLSConfiguration
  {
    do {
      let chain = try TLSMaterial.pemBlocks(material.certificateChainPEM).map {
        NIOSSLCertificateSource.certificate(
          try NIOSSLCertificate(bytes: Array($0.utf8), format: .pem)
        )
      }
      let key = try NIOSSLPrivateKey(bytes: Array(material.privateKeyPEM.utf8), format: .pem)
      var configuration = TLSConfiguration.makeServerConfiguration(
        certificateChain: chain,
        privateKey: .privateKey(key)
      )
      configuration.minimumTLSVersion = .tlsv12
      if let clientCAPEM {
        configuration.trustRoots = .certificates(
          try TLSMaterial.pemBlocks(clientCAPEM).map {
            try NIOSSLCertificate(bytes: Array($0.utf8), format: .pem)
          }
        )
        configuration.certificateVerification = .noHostnameVerification
      }
      return configuration
    } catch {
      throw ConfigurationError(
        "a web address's certificate, key or client CA cannot be used: \(error)"
      )
    }
  }
}
