import Foundation
import GRPCCore
import GRPCProtobuf
import Proto
import Testing
import Tracking

@testable import PostalGateway

@Suite("Mapping domain errors to gRPC status codes")
struct ErrorMappingTests {
  @Test(
    "every domain error code has its status",
    arguments: [
      (TrackingError.invalidField("applicant.citizen_id", "bad"), RPCError.Code.invalidArgument),
      (TrackingError.shipmentNotFound(), .notFound),
      (TrackingError.illegalTransition(.dispatched, in: .requested), .failedPrecondition),
      (TrackingError.requestIDReused(), .alreadyExists),
      (TrackingError(code: .failedPrecondition, message: "in person only"), .failedPrecondition),
      (
        TrackingError(code: .throttled, message: "wait", retryAfter: .seconds(5)),
        .resourceExhausted
      ),
      (TrackingError(code: .exhausted, message: "serials"), .resourceExhausted),
      (TrackingError.storageFailure(ConfigurationError("disk")), .unavailable),
    ]
  )
  func mapping(error: TrackingError, expected: RPCError.Code) {
    #expect(error.status.code == expected)
  }

  @Test("invalid arguments carry a BadRequest naming each field")
  func badRequestDetail() {
    let error = TrackingError.invalidArgument([
      .init(field: "applicant.phone", reason: "r1"), .init(field: "procedure_code", reason: "r2"),
    ])
    let fields = error.status.details.compactMap(\.badRequest).flatMap(\.violations).map(\.field)
    #expect(fields == ["applicant.phone", "procedure_code"])
    #expect(error.status.message == "applicant.phone: r1; procedure_code: r2")
  }

  @Test("a storage failure's cause is not sent to the client")
  func storageCauseStaysHome() {
    let error = TrackingError.storageFailure(ConfigurationError("/var/lib/secret/path is full"))
    #expect(!error.status.message.contains("/var/lib"))
  }
}

@Suite("SPIFFE identities")
struct SPIFFEIdentityTests {
  @Test("staff and agency IDs of the trust domain map to actors")
  func parses() throws {
    let staff = SPIFFEIdentity.actor(
      from: "spiffe://td.example/staff/250000/clerk-01",
      trustDomain: "td.example"
    )
    #expect(staff?.role == .staff)
    #expect(staff?.postOffice?.rawValue == "250000")
    let agency = SPIFFEIdentity.actor(
      from: "spiffe://td.example/agency/000.00.00.H55",
      trustDomain: "td.example"
    )
    #expect(agency?.role == .agency)
    #expect(agency?.agency?.rawValue == "000.00.00.H55")
  }

  @Test(
    "anything else is no identity",
    arguments: [
      "spiffe://other.example/staff/250000/clerk-01", "spiffe://td.example/staff/25000/clerk-01",
      "spiffe://td.example/staff/250000/", "spiffe://td.example/staff/250000/a/b",
      "spiffe://td.example/agency/H55", "spiffe://td.example/admin/x",
      "https://td.example/staff/250000/x",
      "spiffe://td.example.evil/staff/250000/x", "spiffe://td.example/staff/250000/..",
    ]
  )
  func refuses(uri: String) {
    #expect(SPIFFEIdentity.actor(from: uri, trustDomain: "td.example") == nil)
  }
}

@Suite("Authorization table")
struct AuthorizationPolicyTests {
  let policy = AuthorizationPolicy.standard

  @Test("staff may use the counter service; agencies and citizens may not")
  func counter() {
    for method in Postalgateway_V1_CounterService.Method.descriptors {
      #expect(self.policy.allows(.staff, method))
      #expect(!self.policy.allows(.agency, method))
      #expect(!self.policy.allows(.citizen, method))
    }
  }

  @Test("only citizens track; everyone checks health; unknown methods are refused")
  func others() {
    #expect(
      self.policy.allows(.citizen, Postalgateway_V1_TrackingService.Method.TrackShipment.descriptor)
    )
    #expect(
      !self.policy.allows(.staff, Postalgateway_V1_TrackingService.Method.TrackShipment.descriptor)
    )
    for role in Role.allCases {
      #expect(self.policy.allows(role, Grpc_Health_V1_Health.Method.Check.descriptor))
      #expect(
        !self.policy.allows(role, MethodDescriptor(fullyQualifiedService: "x.Y", method: "Z"))
      )
    }
  }
}

@Suite("Configuration")
struct ConfigurationTests {
  @Test("the defaults are valid")
  func defaults() throws {
    try GatewayConfiguration().validate()
  }

  @Test("plaintext is allowed only on the public listener and only on loopback")
  func plaintext() throws {
    var configuration = GatewayConfiguration()
    configuration.publicListener = try .init(address: "127.0.0.1:8443", plaintext: true)
    try configuration.validate()
    configuration.publicListener = try .init(address: "0.0.0.0:8443", plaintext: true)
    #expect(throws: ConfigurationError.self) { try configuration.validate() }
    configuration = GatewayConfiguration()
    configuration.partner.plaintext = true
    #expect(throws: ConfigurationError.self) { try configuration.validate() }
  }

  @Test("bad settings are refused")
  func badSettings() {
    for change in [
      { (c: inout GatewayConfiguration) in c.trustDomain = "Bad Domain" },
      { $0.serviceIndicator = "E1" },
      { $0.partner.port = 70000 },
      { $0.throttle.maximumFailures = 0 },
      { $0.idempotencyRetentionDays = 0 },
      { $0.handoffs.maximumInFlightPerEndpoint = 0 },
    ] {
      var configuration = GatewayConfiguration()
      change(&configuration)
      #expect(throws: ConfigurationError.self) { try configuration.validate() }
    }
  }

  @Test(
    "the example configuration file is a production one: certificates, the catalog, the idempotency retention"
  )
  func exampleFile() throws {
    var configuration = GatewayConfiguration()
    let example = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("deploy/config.example.json").path
    try configuration.apply(file: example)
    #expect(configuration.tls?.certificateChain == "/etc/postal-gateway/server.pem")
    #expect(configuration.catalogPath == "/etc/postal-gateway/catalog.json")
    // The shipped calendars, map and policy come from the installed data folder.
    #expect(configuration.sla.policyFile == nil)
    #expect(configuration.adminUnitsDirectory == nil)
    #expect(configuration.idempotencyRetentionDays == 30)
    #expect(configuration.missingForProduction.isEmpty)
    #expect(configuration.web == .init(host: "0.0.0.0", port: 443))
    #expect(configuration.notifications.sms?.quietHours == "21:00-07:00")
    #expect(configuration.notifications.zalo?.templates.count == 6)
    #expect(configuration.notifications.webhooks?.first?.agencies == ["000.00.00.H55"])
    try configuration.validate()
  }

  @Test("addresses parse as host:port and [v6]:port")
  func addresses() throws {
    #expect(
      try GatewayConfiguration.Listener(address: "127.0.0.1:7443")
        == .init(host: "127.0.0.1", port: 7443)
    )
    #expect(
      try GatewayConfiguration.Listener(address: "[::1]:8443") == .init(host: "::1", port: 8443)
    )
    #expect(throws: ConfigurationError.self) {
      try GatewayConfiguration.Listener(address: "localhost")
    }
  }
}

@Suite("Agency routing file and retry policy")
struct HandoffConfigurationTests {
  func write(_ json: String, in directory: String) throws -> String {
    let path = (directory as NSString).appendingPathComponent("routes.json")
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test("a routing file with a push and a pull agency loads, with paths relative to it")
  func loads() throws {
    let directory = temporaryDirectory()
    let path = try HandoffPKI.shared.routesFile(mode: .push, port: 9443, in: directory)
    let routes = try AgencyRoutesFile.load(path: path)
    #expect(routes.count == 1)
    #expect(routes[0].mode == .push)
    #expect(routes[0].endpoint?.description == "127.0.0.1:9443")
    #expect(routes[0].endpoint?.serverCAPEM.contains("BEGIN CERTIFICATE") == true)
  }

  @Test(
    "a routing file that is wrong says where",
    arguments: [
      (#"{"agencies":[{"agency":"H55","mode":"pull"}]}"#, "agencies[0].agency"),
      (#"{"agencies":[{"agency":"000.00.00.H55","mode":"carrier-pigeon"}]}"#, "agencies[0].mode"),
      (#"{"agencies":[{"agency":"000.00.00.H55","mode":"push"}]}"#, "agencies[0].endpoint"),
      (
        #"{"agencies":[{"agency":"000.00.00.H55","mode":"push","endpoint":"h:1"}]}"#,
        "agencies[0].serverCA"
      ),
      (
        #"{"agencies":[{"agency":"000.00.00.H55","mode":"pull"},{"agency":"000.00.00.H55","mode":"pull"}]}"#,
        "listed twice"
      ),
    ]
  )
  func refused(json: String, mention: String) throws {
    let path = try self.write(json, in: temporaryDirectory())
    do {
      _ = try AgencyRoutesFile.load(path: path)
      Issue.record("accepted \(json)")
    } catch let error as ConfigurationError {
      #expect(error.description.contains(mention), "\(error)")
    }
  }

  @Test("retry delays grow exponentially to the cap and keep at least half of it (equal jitter)")
  func backoff() {
    var configuration = GatewayConfiguration.Handoffs()
    configuration.initialBackoffMilliseconds = 100
    configuration.maximumBackoffMilliseconds = 1000
    let policy = HandoffDispatcher.Policy(configuration)
    var generator = SystemRandomNumberGenerator()
    for (failures, ceiling) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (40, 1000)] {
      for _ in 0 ..< 50 {
        let delay = policy.delay(afterFailures: failures, using: &generator)
        #expect(
          delay >= .milliseconds(ceiling / 2) && delay <= .milliseconds(ceiling),
          "\(failures)"
        )
      }
    }
  }
}
