import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto

/// `postal-gateway load run|echo-server`: the gateway measured from outside, beside a bare
/// gRPC echo server on the same TLS settings.
struct LoadCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "load",
    abstract: "Measure a gateway over (mutual) TLS, or serve the echo baseline.",
    discussion: """
      `load run --workload register|event|track|proof` drives a gateway; `load run --workload \
      echo --server <echo address>` drives `load echo-server`, the bare gRPC limit of the \
      machine. Give the echo run's --json output to --baseline to get ratios.
      """,
    subcommands: [Run.self, EchoServer.self]
  )

  /// `postal-gateway load run`
  struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "N connections × M calls in flight for a duration; prints throughput, latency percentiles, errors by status."
    )

    @OptionGroup var client: ClientOptions
    @Option(
      help: "register, event (transit scans), track, proof, ack (handoff acceptances) or echo."
    )
    var workload: LoadWorkload = .register
    @Option(help: "TCP connections.") var connections = 4
    @Option(help: "Calls in flight per connection.") var streams = 32
    @Option(help: "Measured seconds.") var duration: Double = 10
    @Option(help: "Seconds of calls before measuring.") var warmup: Double = 1
    @Option(help: "Stop after this many measured calls (no warm-up) instead of --duration.")
    var requests: Int?
    @Option(help: "Offered calls per second over all streams. Default: as fast as answered.")
    var rate: Double?
    @Option(
      help:
        "Partner listener for the setup of track and proof (registrations). Default $POSTAL_GATEWAY_PARTNER or 127.0.0.1:7443."
    )
    var partner: String?
    @Option(help: "The server's process id: report its CPU time per call and peak RSS.")
    var serverPID: Int32?
    @Option(help: "A previous run's --json output (the echo run): print ratios to it.")
    var baseline: String?
    @Option(help: "Shipments each event stream scans in turn.") var shipmentsPerStream = 8
    @Option(help: "Shipments the track workload looks up.") var trackedShipments = 256
    @Option(
      help:
        "The ack workload's agency certificate (PEM). Default <data-dir>/pki/agency.pem; its agency needs the pull mode in the gateway's routing file."
    )
    var agencyCert: String?
    @Option(help: "Its private key. Default <data-dir>/pki/agency-key.pem.") var agencyKey: String?
    @Option(help: "The ack workload's agency code, as its certificate names it.")
    var agencyCode = "000.00.00.H55"

    func validate() throws {
      guard self.connections > 0, self.streams > 0 else {
        throw ValidationError("--connections and --streams must be positive")
      }
      guard self.duration > 0, self.warmup >= 0 else {
        throw ValidationError("--duration must be positive and --warmup not negative")
      }
      if let requests, requests <= 0 { throw ValidationError("--requests must be positive") }
      if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
      guard self.shipmentsPerStream > 0, self.trackedShipments > 0 else {
        throw ValidationError("--shipments-per-stream and --tracked-shipments must be positive")
      }
      if self.workload == .ack, self.requests == nil {
        throw ValidationError(
          "--workload ack needs --requests: each acknowledgement takes a dossier prepared beforehand"
        )
      }
      if self.workload == .echo, self.client.server == nil {
        throw ValidationError(
          "--workload echo needs --server (the address load echo-server prints)"
        )
      }
    }

    func run() async throws {
      let plan = LoadPlan(
        workload: self.workload,
        connections: self.connections,
        streams: self.streams,
        duration: .seconds(self.duration),
        warmup: .seconds(self.warmup),
        requests: self.requests,
        rate: self.rate
      )
      let measured =
        self.workload.usesPartnerListener ? self.client.partnerAddress : self.client.publicAddress
      let security =
        switch self.workload {
        case .ack:
          self.client.mutualTLS(
            certificate: self.agencyCert ?? self.client.pki("agency.pem"),
            key: self.agencyKey ?? self.client.pki("agency-key.pem")
          )
        case .register, .event, .echo: self.client.mutualTLS()
        case .track, .proof: self.client.serverTLS()
        }
      let setupAddress =
        self.workload.usesPartnerListener
        ? measured
        : self.partner ?? ClientOptions.defaultPartnerAddress
      let window = LoadWindowObserver(pid: self.serverPID)
      let (tally, seconds) = try await Self.withClients(
        count: 1,
        address: setupAddress,
        security: self.client.mutualTLS()
      ) { setup in
        try await Self.withClients(
          count: self.connections,
          address: measured,
          security: security
        ) { clients in
          let preparation = LoadPreparation(
            partner: setup[0],
            shipmentsPerStream: self.shipmentsPerStream,
            trackedShipments: self.trackedShipments,
            acknowledgedDossiers: self.requests ?? 0,
            agency: self.agencyCode
          )
          let shared = try await preparation.shared(for: self.workload, public: clients[0])
          let workload = self.workload
          return try await LoadRunner(plan: plan).run(
            clients: clients,
            prepare: { index, client in
              try await preparation.call(workload, stream: index, client: client, shared: shared)
            },
            window: window
          )
        }
      }
      var report = LoadReport(
        plan: plan,
        tally: tally,
        seconds: seconds,
        window: window.lastFigures
      )
      if let baseline { report.compare(to: try LoadReport.read(baseline)) }
      print(self.client.json ? try report.json() : report.text)
      fflush(nil)
    }

    /// Runs `body` with `count` clients, each on its own connection.
    static func withClients<T: Sendable>(
      count: Int,
      address: String,
      security: HTTP2ClientTransport.Posix.TransportSecurity,
      _ body: ([GRPCClient<HTTP2ClientTransport.Posix>]) async throws -> T
    ) async throws -> T {
      let target = try ClientOptions.target(address)
      var clients: [GRPCClient<HTTP2ClientTransport.Posix>] = []
      for _ in 0 ..< count {
        let transport = try HTTP2ClientTransport.Posix(
          target: target,
          transportSecurity: security,
          config: .defaults
        )
        clients.append(GRPCClient(transport: transport))
      }
      let connected = clients
      do {
        return try await withThrowingTaskGroup(of: Void.self) { group in
          for client in connected {
            group.addTask { try await client.runConnections() }
          }
          defer { for client in connected { client.beginGracefulShutdown() } }
          return try await body(connected)
        }
      } catch let error as RPCError {
        throw ClientError(error)
      }
    }
  }
}
