import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf

extension LoadCommand {
  /// `postal-gateway load echo-server`: the bare gRPC limit of the machine, on the partner
  /// listener's TLS settings (the same certificates, client certificates required) and stream
  /// limit, with nothing behind it.
  struct EchoServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "echo-server",
      abstract: "Serve the echo baseline over mutual TLS; prints its address, runs until killed."
    )

    @Option(help: "JSON configuration file of the gateway (its tls and limits are used).")
    var config: String?
    @Option(help: "Data directory whose pki/ holds the development certificates.")
    var dataDir: String?
    @Option(help: "host:port; port 0 picks a free one.") var address = "127.0.0.1:0"

    func run() async throws {
      var configuration = GatewayConfiguration()
      if let config { try configuration.apply(file: config) }
      if let dataDir { configuration.dataDirectory = dataDir }
      let listener = try GatewayConfiguration.Listener(address: self.address)
      configuration.partner = listener
      let (tls, _) = try TLSMaterial.load(for: configuration)
      let limits = configuration.limits
      let transport = HTTP2ServerTransport.Posix(
        address: try GatewayListeners.socketAddress(listener),
        transportSecurity: try GatewayListeners.mutualTLS(tls),
        config: .defaults {
          $0.rpc.maxRequestPayloadSize = limits.maximumRequestBytes
          $0.http2.maxConcurrentStreams = limits.maximumConcurrentStreamsPerConnection
        }
      )
      let server = GRPCServer(transport: transport, services: [EchoService()])
      try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await server.serve() }
        let bound = try await transport.listeningAddress
        if let ipv4 = bound.ipv4 {
          print("echo server listening on \(ipv4.host):\(ipv4.port)")
        } else if let ipv6 = bound.ipv6 {
          print("echo server listening on [\(ipv6.host)]:\(ipv6.port)")
        }
        fflush(nil)
      }
    }
  }
}

/// Answers every call with its payload.
struct EchoService: Postalgateway_Bench_V1_EchoService.SimpleServiceProtocol {
  func echo(
    request: Postalgateway_Bench_V1_EchoRequest,
    context: ServerContext
  ) async throws -> Postalgateway_Bench_V1_EchoResponse {
    .with { $0.payload = request.payload }
  }
}
