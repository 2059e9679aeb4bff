import Foundation
import GRPCCore
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The operator's `/metrics` address, scraped over real HTTP from a gateway serving real mutual
/// TLS, after a short load of pickups, scans, lookups and refusals.
@Suite("Prometheus metrics")
struct MetricsTests {
  let handoffs = HandoffEndToEndTests()
  static let agency = "000.00.00.H55"

  @Test(
    "after a short load, /metrics shows the calls' histograms by method and status, the outbox per agency, the custody log, commits, refusals and the certificate's expiry"
  )
  func scrapeAfterLoad() async throws {
    let hold = try NotificationReceiver.holdPort()
    defer { hold.release() }
    let hook = try NotificationEndToEndTests.webhook(
      port: hold.port,
      secrets: [NotificationEndToEndTests.newSecret]
    )
    try await self.handoffs.withRoutedGateway(mode: .pull) {
      $0.metrics = .init(host: "127.0.0.1", port: 0)
      // Each lookup below comes from a new connection (a new client address): the number is
      // slowed after three failures.
      $0.throttle.maximumFailuresPerNumber = 3
      // A subscriber that is down: each collection's message waits in the outbox.
      $0.notifications = .init(webhooks: [hook])
    } _: { gateway in
      // Load: three dossiers digitized for a pull agency (each a pickup, a collection and two
      // scans), one refused pickup, and a citizen who keeps guessing a code.
      var numbers: [String] = []
      var code = ""
      for _ in 0 ..< 3 {
        let (number, _, issued) = try await self.handoffs.digitizedDossierWithCode(on: gateway)
        numbers.append(number)
        code = issued
      }
      let refused = await rpcError {
        _ = try await gateway.withPartnerClient(TestPKI.shared.staff) {
          try await $0.registerPickup(samplePickup(citizenID: "12345"))
        }
      }
      #expect(refused?.code == .invalidArgument)
      _ = try await gateway.track(numbers[2], code: code)
      // A well-formed code that is not this shipment's.
      let wrong = code.uppercased().hasPrefix("2222") ? "3333-3333-33" : "2222-2222-22"
      var refusals = 0
      for _ in 0 ..< 7 {
        if let error = await rpcError({ _ = try await gateway.track(numbers[1], code: wrong) }),
          error.code == .resourceExhausted
        {
          refusals += 1
        }
      }
      #expect(refusals >= 1)

      let port = try #require(await gateway.gateway.metricsPort())
      let (status, text) = try await Self.get("http://127.0.0.1:\(port)/metrics")
      #expect(status == 200)
      let metrics = try Exposition(text)

      // Calls by method and status, with a histogram whose buckets add up.
      let pickup = [
        "listener": "partner", "grpc_service": "postalgateway.v1.CounterService",
        "grpc_method": "RegisterPickup",
      ]
      #expect(metrics.value("grpc_server_handled_total", pickup.with(["grpc_code": "OK"])) == 3)
      #expect(
        metrics.value("grpc_server_handled_total", pickup.with(["grpc_code": "INVALID_ARGUMENT"]))
          == 1
      )
      let buckets = metrics.buckets("grpc_server_handling_seconds", pickup)
      #expect(buckets.count == GatewayMetrics.callBuckets.count + 1)
      #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.1.count >= $0.0.count })
      #expect(buckets.last?.bound == .infinity)
      #expect(buckets.last?.count == 4)
      #expect(metrics.value("grpc_server_handling_seconds_count", pickup) == 4)
      let sum = try #require(metrics.value("grpc_server_handling_seconds_sum", pickup))
      #expect(sum > 0 && sum < 4 * 60)
      let tracking = [
        "listener": "public", "grpc_service": "postalgateway.v1.TrackingService",
        "grpc_method": "TrackShipment",
      ]
      #expect(metrics.value("grpc_server_handled_total", tracking.with(["grpc_code": "OK"])) == 1)
      #expect(
        metrics.value(
          "grpc_server_handled_total",
          tracking.with(["grpc_code": "RESOURCE_EXHAUSTED"])
        ) == Double(refusals)
      )

      // The outbox: three dossiers waiting for the agency to pull them, none dead.
      let agency = ["agency": Self.agency]
      #expect(metrics.value("postal_gateway_handoff_outbox_depth", agency) == 3)
      #expect(metrics.value("postal_gateway_handoff_dead_letters", agency) == 0)
      let oldest = try #require(
        metrics.value("postal_gateway_handoff_oldest_pending_age_seconds", agency)
      )
      #expect(oldest >= 0 && oldest < 600)

      // The custody log, and commits with their latency.
      let size = try await gateway.gateway.domain.custodyLog.treeSize()
      #expect(metrics.value("postal_gateway_custody_log_entries", [:]) == Double(size))
      let committed = try #require(
        metrics.value("postal_gateway_store_transactions_total", ["outcome": "committed"])
      )
      #expect(committed >= 12)
      #expect(metrics.value("postal_gateway_store_commit_seconds_count", [:]) == committed)
      #expect(metrics.value("postal_gateway_store_writable", [:]) == 1)

      // Refusals, and the running hops' counts.
      let lockouts = try #require(
        metrics.value("postal_gateway_throttle_rejections_total", ["reason": "tracking_lockout"])
      )
      let slowed = try #require(
        metrics.value("postal_gateway_throttle_rejections_total", ["reason": "tracking_slowed"])
      )
      #expect(lockouts + slowed == Double(refusals))
      #expect(
        metrics.value("postal_gateway_throttle_rejections_total", ["reason": "calls_in_flight"])
          == 0
      )
      #expect(metrics.value("postal_gateway_sla_hops_overdue", [:]) == 0)
      #expect(metrics.value("postal_gateway_sla_hops_at_risk", [:]) == 0)

      // The server's own certificate: it expires in the future, as its notAfter says.
      let expiry = try #require(
        metrics.samples.first {
          $0.name == "postal_gateway_tls_certificate_expiry_timestamp_seconds"
            && $0.labels["certificate"] == "server"
        }?.value
      )
      #expect(expiry > Date().timeIntervalSince1970)
      #expect(metrics.help["grpc_server_handling_seconds"] != nil)
      #expect(metrics.types["grpc_server_handling_seconds"] == "histogram")

      // The notification outbox: the three dossiers' messages wait for the subscriber.
      let subscriber = ["destination": "webhook", "subscription": "h55-portal"]
      #expect(metrics.value("postal_gateway_notification_outbox_depth", subscriber) == 3)
      #expect(metrics.value("postal_gateway_notification_dead_letters", subscriber) == 0)

      // Every metric the shipped alerting rules and dashboard use is one the gateway serves.
      let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("deploy")
      let rules = try ["prometheus-alerts.yml", "grafana-dashboard.json"].map {
        try String(contentsOfFile: deploy.appendingPathComponent($0).path, encoding: .utf8)
      }.joined(separator: "\n")
      let served = Set(metrics.samples.map(\.name))
      let used = Set(
        rules.matches(of: /(postal_gateway|grpc_server)_[a-z_]+/).map { String($0.output.0) }
      )
      #expect(used.count >= 15)
      #expect(used.subtracting(served).isEmpty, "rules use \(used.subtracting(served).sorted())")

      // A later scrape sees the outbox change: the agency accepts one dossier.
      try await self.handoffs.asAgency(gateway) { agency in
        _ = try await agency.acknowledgeHandoff(
          .with {
            $0.requestID = UUID().uuidString
            $0.handoffID = "\(numbers[0])-H1"
            $0.accepted = .with {
              $0.dossierCode = "000.00.00.H55-261203-0001"
              $0.receivedAt = Google_Protobuf_Timestamp(date: Date())
            }
          }
        )
      }
      let after = try Exposition(try await Self.get("http://127.0.0.1:\(port)/metrics").1)
      #expect(after.value("postal_gateway_handoff_outbox_depth", agency) == 2)

      // Nothing else is served there.
      #expect(try await Self.get("http://127.0.0.1:\(port)/").0 == 404)
    }
  }

  @Test("no metrics address is served by default, and metrics.plaintext is refused naming the key")
  func metricsAddressIsOptInAndChecked() async throws {
    try await withTestGateway { gateway in
      #expect(await gateway.gateway.metricsPort() == nil)
    }
    let configurationError = #expect(throws: ConfigurationError.self) {
      var configuration = GatewayConfiguration()
      configuration.metrics = .init(host: "127.0.0.1", port: 9464, plaintext: true)
      try configuration.validate()
    }
    #expect(configurationError?.description.contains("metrics") == true)
  }

  /// GETs a URL: the status and the body as text.
  static func get(_ url: String) async throws -> (Int, String) {
    let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
  }
}

extension Dictionary where Key == String, Value == String {
  /// A copy with more labels.
  fileprivate func with(_ more: [String: String]) -> [String: String] {
    self.merging(more) { _, new in new }
  }
}

/// The Prometheus text exposition format, parsed: samples with their labels, `# HELP` and
/// `# TYPE` lines.
struct Exposition {
  struct Sample {
    var name: String
    var labels: [String: String]
    var value: Double
  }

  struct Malformed: Error, CustomStringConvertible {
    var description: String
  }

  var samples: [Sample] = []
  var help: [String: String] = [:]
  var types: [String: String] = [:]

  init(_ text: String) throws {
    for line in text.split(separator: "\n") {
      if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
        let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw Malformed(description: "bad comment: \(line)") }
        if line.hasPrefix("# HELP ") {
          self.help[parts[0]] = parts[1]
        } else {
          self.types[parts[0]] = parts[1]
        }
        continue
      }
      self.samples.append(try Self.sample(Substring(line)))
    }
  }

  /// `name{a="b",c="d"} value`, with `\"`, `\\` and `\n` escapes in label values.
  static func sample(_ line: Substring) throws -> Sample {
    var rest = line
    let name = String(rest.prefix { $0 != "{" && $0 != " " })
    rest = rest.dropFirst(name.count)
    var labels: [String: String] = [:]
    if rest.first == "{" {
      rest = rest.dropFirst()
      while rest.first != "}" {
        let key = String(rest.prefix { $0 != "=" })
        rest = rest.dropFirst(key.count)
        guard rest.hasPrefix("=\"") else { throw Malformed(description: "bad label in \(line)") }
        rest = rest.dropFirst(2)
        var value = ""
        while let character = rest.first, character != "\"" {
          rest = rest.dropFirst()
          if character == "\\", let escaped = rest.first {
            rest = rest.dropFirst()
            value.append(escaped == "n" ? "\n" : escaped)
          } else {
            value.append(character)
          }
        }
        guard rest.first == "\"" else { throw Malformed(description: "unterminated in \(line)") }
        rest = rest.dropFirst()
        labels[key] = value
        if rest.first == "," { rest = rest.dropFirst() }
        guard !rest.isEmpty else { throw Malformed(description: "unterminated labels: \(line)") }
      }
      rest = rest.dropFirst()
    }
    let text = rest.trimmingCharacters(in: .whitespaces)
    let value: Double? =
      switch text {
      case "+Inf": .infinity
      case "-Inf": -.infinity
      default: Double(text)
      }
    guard let value else { throw Malformed(description: "bad value in \(line)") }
    return Sample(name: name, labels: labels, value: value)
  }

  /// The value of the sample with exactly these labels.
  func value(_ name: String, _ labels: [String: String]) -> Double? {
    self.samples.first { $0.name == name && $0.labels == labels }?.value
  }

  /// A histogram's cumulative buckets for these labels, by upper bound.
  func buckets(_ name: String, _ labels: [String: String]) -> [(bound: Double, count: Double)] {
    self.samples.compactMap { sample in
      guard sample.name == name + "_bucket", let le = sample.labels["le"] else { return nil }
      var others = sample.labels
      others["le"] = nil
      guard others == labels else { return nil }
      return (le == "+Inf" ? .infinity : Double(le) ?? .nan, sample.value)
    }.sorted { $0.bound < $1.bound }
  }
}
