import Foundation
import Prometheus
import SwiftASN1
import Synchronization
import Tracking
import X509

/// Sets the gauges that describe the gateway's state at the moment of a scrape: the custody
/// log and its last checkpoint, the handoff outbox per agency, the notification outbox per
/// destination, running service-level hops, the
/// store's health, the tracking throttle's refusals, the revocation list and when the server's
/// certificates expire. Everything is read from the stores, so two scrapes never disagree with
/// the database.
final class MetricsSampler: Sendable {
  /// A certificate the operator must renew in time.
  struct Expiry: Sendable {
    /// `server` (the listeners' leaf) or `client_ca`.
    var certificate: String
    /// Its subject, for the dashboard.
    var subject: String
    /// Its `notAfter`, in seconds since 1970.
    var notAfter: Double
  }

  let metrics: GatewayMetrics
  let domain: GatewayDomain
  let clock: any WallClock
  let expiries: [Expiry]
  /// The throttle's totals already added to the refusal counter.
  private let reported = Mutex(TrackingThrottle.Refusals())

  init(metrics: GatewayMetrics, domain: GatewayDomain, clock: any WallClock, tls: TLSMaterial) {
    self.metrics = metrics
    self.domain = domain
    self.clock = clock
    self.expiries = Self.expiries(tls)
  }

  /// Reads the stores and sets every gauge.
  /// - Throws: A store's error (the scrape then fails rather than report stale values).
  func sample() async throws {
    let now = self.clock.now()
    let stores = self.domain.stores
    let m = self.metrics
    let size = try await stores.custody.treeSize()
    m.gauge("custody", "log_entries", help: "Entries in the custody log.").set(Double(size))
    let checkpoint = try await stores.custody.latestCheckpoint()
    m.gauge(
      "custody",
      "checkpoint_entries",
      help: "Entries covered by the latest signed checkpoint."
    ).set(Double(checkpoint?.checkpoint.size ?? 0))
    m.gauge(
      "custody",
      "checkpoint_age",
      unit: "seconds",
      help: "Seconds since the latest checkpoint was signed (0 when none is signed yet)."
    ).set(checkpoint.map { Self.seconds(from: $0.signedAt, to: now) } ?? 0)

    for channel in try await stores.handoffs.channelSummaries() {
      let labels = [("agency", channel.agency.rawValue)]
      m.gauge("handoff", "outbox_depth", help: "Handoffs pending, by agency.", labels: labels)
        .set(Double(channel.queueDepth))
      m.gauge(
        "handoff",
        "retrying",
        help: "Pending handoffs that failed at least once, by agency.",
        labels: labels
      ).set(Double(channel.retrying))
      m.gauge("handoff", "dead_letters", help: "Dead-lettered handoffs, by agency.", labels: labels)
        .set(Double(channel.deadLetters))
      m.gauge(
        "handoff",
        "oldest_pending_age",
        unit: "seconds",
        help: "Age of the oldest pending handoff, by agency (0 when none is pending).",
        labels: labels
      ).set(channel.oldestPendingQueuedAt.map { Self.seconds(from: $0, to: now) } ?? 0)
    }

    for summary in try await stores.notifications.summaries() {
      // The destination's kind and, for a webhook, the subscription id: no personal data.
      let labels = [
        ("destination", summary.destination.channelName.lowercased()),
        ("subscription", summary.destination.subscription ?? ""),
      ]
      m.gauge(
        "notification",
        "outbox_depth",
        help: "Notification messages waiting, by destination.",
        labels: labels
      ).set(Double(summary.pending))
      m.gauge(
        "notification",
        "retrying",
        help: "Waiting messages that failed at least once, by destination.",
        labels: labels
      ).set(Double(summary.retrying))
      m.gauge(
        "notification",
        "dead_letters",
        help: "Dead-lettered notification messages, by destination.",
        labels: labels
      ).set(Double(summary.dead))
      m.gauge(
        "notification",
        "oldest_pending_age",
        unit: "seconds",
        help: "Age of the oldest waiting message, by destination (0 when none waits).",
        labels: labels
      ).set(summary.oldestPendingCreatedAt.map { Self.seconds(from: $0, to: now) } ?? 0)
    }

    let hops = try await stores.sla.runningHopCounts(now: now)
    m.gauge("sla", "hops_at_risk", help: "Running hops past their at-risk time, not yet due.")
      .set(Double(hops.atRisk))
    m.gauge("sla", "hops_overdue", help: "Running hops past their due time (breached).")
      .set(Double(hops.overdue))
    m.gauge("store", "writable", help: "1 while the store's writes succeed, 0 after a failure.")
      .set(stores.health.isWritable ? 1.0 : 0.0)
    m.gauge("revocation", "list_sequence", help: "Sequence number of the revocation list in force.")
      .set(Double(self.domain.revocations.current.sequence))
    for expiry in self.expiries {
      m.gauge(
        "tls",
        "certificate_expiry_timestamp",
        unit: "seconds",
        help: "When a certificate of the gateway's expires (notAfter, seconds since 1970).",
        labels: [("certificate", expiry.certificate), ("subject", expiry.subject)]
      ).set(expiry.notAfter)
    }
    self.reportThrottleRefusals()
  }

  /// Adds the tracking throttle's refusals since the last scrape to the refusal counter.
  private func reportThrottleRefusals() {
    let total = self.domain.shipments.trackingRefusals
    let new = self.reported.withLock { reported in
      defer { reported = total }
      return (total.lockedOut - reported.lockedOut, total.slowed - reported.slowed)
    }
    self.metrics.refused(.trackingLockout, by: new.0)
    self.metrics.refused(.trackingSlowed, by: new.1)
  }

  /// Seconds from one instant to a later one (0 if the clock stepped back).
  static func seconds(from start: Timestamp, to end: Timestamp) -> Double {
    max(0, Double(end.microseconds - start.microseconds) / 1_000_000)
  }

  /// The listeners' leaf certificate and the client CAs, with their expiry.
  static func expiries(_ tls: TLSMaterial) -> [Expiry] {
    func parse(_ pem: String, as name: String) -> Expiry? {
      // The listeners loaded these already; one that does not parse here is simply not shown.
      guard let certificate = try? Certificate(pemEncoded: pem) else { return nil }
      return Expiry(
        certificate: name,
        subject: certificate.subject.description,
        notAfter: certificate.notValidAfter.timeIntervalSince1970
      )
    }
    let leaf = TLSMaterial.pemBlocks(tls.certificateChainPEM).first.flatMap {
      parse($0, as: "server")
    }
    let cas = TLSMaterial.pemBlocks(tls.clientCAPEM).compactMap { parse($0, as: "client_ca") }
    return (leaf.map { [$0] } ?? []) + cas
  }
}
