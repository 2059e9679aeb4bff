import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Testing
import Tracking

@testable import PostalGateway

/// A seeded month driven through the real gateway (gRPC over mutual TLS, SQLite, a test clock):
/// the service's art. 13 scores, Decision 766 shares and plan indicators equal the ones this
/// test computes itself from the raw shipments, their events and hops, and the ratings it gave.
@Suite("A seeded month of dossiers")
struct SeededMonthTests {
  typealias CounterClient = Postalgateway_V1_CounterService.Client<HTTP2ClientTransport.Posix>

  let handoffs = HandoffEndToEndTests()
  let sla = SlaEndToEndTests()

  /// Working days of March 2026 from Monday the 2nd (no holiday falls in it).
  static func workingDay(_ index: Int) -> String {
    let week = index / 5
    let day = 2 + week * 7 + index % 5
    return String(format: "2026-03-%02d", day)
  }

  static func at(_ day: String, _ time: String) -> String { "\(day)T\(time):00+07:00" }

  @Test(
    "the scores, the Decision 766 shares and the indicators of a seeded month equal an independent computation from its raw events"
  )
  func seededMonthMatchesAnIndependentComputation() async throws {
    let month = SeededMonth(seed: 20_260_301, count: 12)
    let clock = TestClock("2026-03-02T08:00:00+07:00")
    try await self.handoffs.withRoutedGateway(mode: .pull, clock: clock) { gateway in
      let keys = HandoverKeys()
      try await keys.register(on: gateway)
      var numbers: [String] = []
      var marks: [String: Int32] = [:]
      var previousIdentityCode: String?
      for (index, dossier) in month.dossiers.enumerated() {
        let intake = Self.workingDay(dossier.day)
        clock.set(Self.at(intake, "08:00"))
        let (number, code, identityCode) = try await self.takeIn(
          dossier,
          reusing: previousIdentityCode,
          on: gateway
        )
        previousIdentityCode = identityCode
        numbers.append(number)
        // A late filing: the postal leg misses its due day.
        let day = try CivilDate(iso: intake).adding(days: dossier.filingDelay).description
        clock.set(Self.at(day, "09:00"))
        try await self.file(number, day: day, serial: index + 1, on: gateway)
        for request in 0 ..< dossier.supplements {
          clock.set(Self.at(day, String(format: "%02d:00", 10 + 2 * request)))
          try await self.supplement(number, on: gateway, clock: clock, day: day, request: request)
        }
        // The result: a day before, on, or a day after the agency's due day.
        let filed = try await self.handoffs.shipment(number, on: gateway)
        let hop = try #require(filed.hops.first { $0.hop == .agencyProcessing })
        let due = try CivilDate(iso: hop.dueDate)
        let resultDay = due.adding(days: dossier.resultOffset).description
        clock.set(Self.at(max(resultDay, day), "16:00"))
        _ = try await self.handoffs.asAgency(gateway) { agency in
          try await agency.reportResultReady(
            .with {
              $0.requestID = UUID().uuidString
              $0.trackingNumber = number
              $0.documents = ["Bản sao trích lục hộ tịch"]
              $0.collectAt = "Bộ phận một cửa tỉnh"
            }
          )
        }
        if dossier.delivered {
          clock.set(Self.at(max(resultDay, day), "16:30"))
          try await self.deliver(number, keys: keys, clock: clock, on: gateway)
          if let mark = dossier.rating {
            marks[number] = mark
            try await gateway.withCitizenClient { citizen in
              _ = try await citizen.rateService(
                RatingEndToEndTests.rating(number, code, overall: mark)
              )
            }
          }
        }
      }
      clock.set("2026-04-01T09:00:00+07:00")

      // The raw records.
      var shipments: [Postalgateway_V1_Shipment] = []
      for number in numbers {
        shipments.append(try await self.handoffs.shipment(number, on: gateway))
      }
      let expected = Expected(shipments: shipments, marks: marks, now: clock.now())
      // The month is what it says: every class of every scale is there.
      #expect(Set(expected.agencyClass.values) == [0, 1, 2])
      #expect(Set(expected.contacts.values).isSuperset(of: [0, 1, 2]))
      #expect(expected.complaints > 0 && expected.complaints < marks.count)
      #expect(expected.postalOnTimePercent > 0 && expected.postalOnTimePercent < 100)

      let (scores, indicators) = try await self.sla.asOversight(gateway) { oversight in
        let scores = try await oversight.getScores(
          .with {
            $0.fromDate = "2026-03-01"
            $0.toDate = "2026-03-31"
            $0.groupBy = .agency
          }
        )
        let indicators = try await oversight.getIndicators(
          .with {
            $0.fromDate = "2026-03-01"
            $0.toDate = "2026-03-31"
            $0.groupBy = .agency
          }
        )
        return (scores, indicators)
      }
      let row = try #require(scores.rows.first)
      #expect(scores.rows.map(\.key) == ["000.00.00.H55"])
      #expect(row.dossiers == Int32(shipments.count))
      #expect(row.totalTime == expected.average(expected.agencyClass))
      #expect(row.unitTime == expected.average(expected.unitClass))
      #expect(row.contacts == expected.average(expected.contacts.mapValues { max(0, 2 - $0) }))
      #expect(row.bodies == expected.average(expected.contacts.mapValues { $0 == 0 ? 2 : 1 }))
      #expect(row.attitude == expected.average(expected.attitude))
      let total = expected.rounded(
        [row.totalTime, row.unitTime, row.contacts, row.bodies, row.attitude].reduce(0, +)
      )
      #expect(row.total == total)
      #expect(row.band == (total >= 5 ? .full : total >= 3.5 ? .most : .below70))
      #expect(scores.notComputed.map(\.indicator) == [5, 6, 8, 9])
      #expect(scores.legalSource.contains("TT 01/2018/TT-VPCP art. 13–15"))

      // Decision 766: the configured weights and the post's rates.
      #expect(scores.scorecard.map(\.points) == [18, 20, 12, 10, 18, 22])
      #expect(scores.scorecard.first { $0.code == "ONLINE_PAYMENT" }?.confirmed == false)
      let shares = Dictionary(uniqueKeysWithValues: row.shares.map { ($0.code, $0) })
      #expect(shares.keys.sorted() == ["DIGITIZATION", "ON_TIME", "SATISFACTION"])
      #expect(shares["ON_TIME"]?.ratePercent == expected.postalOnTimePercent)
      #expect(shares["ON_TIME"]?.points == (expected.postalOnTimePercent * 20).rounded() / 100)
      #expect(shares["DIGITIZATION"]?.ratePercent == 100)
      #expect(shares["DIGITIZATION"]?.points == 22)
      #expect(shares["SATISFACTION"]?.ratePercent == expected.satisfiedPercent)

      // The plan's indicators of the same month.
      let counts = try #require(indicators.rows.first)
      #expect(counts.received == Int32(shipments.count))
      #expect(counts.digitized == Int32(shipments.count))
      #expect(counts.ratings == Int32(marks.count))
      #expect(counts.complaints == Int32(expected.complaints))
      #expect(counts.reusedPapers == Int32(month.dossiers.filter(\.reusesPaper).count))
      #expect(counts.papers == Int32(2 * shipments.count))
      #expect(counts.electronicTransfers == Int32(shipments.count))

      // No grouping: refused, naming the field.
      let refused = await rpcError {
        _ = try await self.sla.asOversight(gateway) { oversight in
          try await oversight.getScores(
            .with {
              $0.fromDate = "2026-03-01"
              $0.toDate = "2026-03-31"
            }
          )
        }
      }
      #expect(refused?.code == .invalidArgument)
      #expect(refused?.message.hasPrefix("group_by") == true)
    }
  }

  @Test("the officials' bands and the rounding follow TT 01/2018 art. 15.2a and 15.3a")
  func bandsAndRoundingFollowTheCircular() {
    #expect(DutyBand(total: 5) == .full)
    #expect(DutyBand(total: 4.9) == .most)
    #expect(DutyBand(total: 3.5) == .most)
    #expect(DutyBand(total: 3.4) == .belowSeventy)
    // 0.25 → 0.3 (half away from zero); 17 points over 12 dossiers → 1.4.
    #expect(ScoreRow.average(1, over: 4) == 0.3)
    #expect(ScoreRow.average(17, over: 12) == 1.4)
    #expect(ScoreRow.average(0, over: 0) == 0)
    let none = ScoreRow(
      ScoreTally(
        key: "x",
        dossiers: 0,
        agencyEarly: 0,
        agencyOnTime: 0,
        unitsEarly: 0,
        unitsOnTime: 0,
        noContact: 0,
        oneContact: 0,
        earlyWithoutComplaint: 0,
        onTimeWithoutComplaint: 0
      )
    )
    #expect(none.band == nil && none.total == 0)
  }

  /// Registers and collects a dossier (guided first if the story says so) and digitizes it,
  /// reusing the previous dossier's identity paper when asked; returns the number, the
  /// citizen's code and the identity paper's document code.
  func takeIn(
    _ dossier: SeededMonth.Dossier,
    reusing previous: String?,
    on gateway: RunningGateway
  ) async throws -> (String, String, String) {
    try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
      let registered = try await counter.registerPickup(samplePickup())
      let number = registered.shipment.trackingNumber
      if dossier.guided {
        let guided = try await counter.recordCollection(collectionRequest(number, complete: false))
        #expect(guided.shipment.state == .incompleteGuided)
      }
      _ = try await counter.recordCollection(collectionRequest(number))
      _ = try await upload(counter, number: number, documentID: "TO_KHAI", bytes: pdfBytes(9_000))
      if dossier.reusesPaper, let previous {
        let reused = try await counter.reusePaper(
          .with {
            $0.requestID = UUID().uuidString
            $0.trackingNumber = number
            $0.documentID = "GIAY_TO_TUY_THAN"
            $0.documentCode = previous
          }
        )
        return (number, registered.verificationCode, reused.scan.documentCode)
      }
      let scan = try await upload(
        counter,
        number: number,
        documentID: "GIAY_TO_TUY_THAN",
        bytes: pdfBytes(8_000, seed: UInt8(truncatingIfNeeded: number.hashValue))
      )
      return (number, registered.verificationCode, scan.scan.documentCode)
    }
  }

  /// The agency accepts the electronic handoff at the clock's time.
  func file(_ number: String, day: String, serial: Int, on gateway: RunningGateway) async throws {
    let yymmdd = day.replacingOccurrences(of: "-", with: "").dropFirst(2)
    _ = try await self.handoffs.asAgency(gateway) { agency in
      try await agency.acknowledgeHandoff(
        .with {
          $0.requestID = UUID().uuidString
          $0.handoffID = "\(number)-H1"
          $0.accepted = .with {
            $0.dossierCode = String(format: "000.00.00.H55-%@-%04d", String(yymmdd), serial)
            $0.receivedAt = TestClock.parse(Self.at(day, "09:00")).proto
          }
        }
      )
    }
  }

  /// The agency asks for a missing item; an hour later the post delivers it.
  func supplement(
    _ number: String,
    on gateway: RunningGateway,
    clock: TestClock,
    day: String,
    request: Int
  ) async throws {
    _ = try await self.handoffs.asAgency(gateway) { agency in
      try await agency.requestSupplement(
        .with {
          $0.requestID = UUID().uuidString
          $0.trackingNumber = number
          $0.missingItems = ["Bản sao giấy khai sinh"]
          $0.reason = "Thiếu giấy tờ"
        }
      )
    }
    clock.set(Self.at(day, String(format: "%02d:00", 11 + 2 * request)))
    _ = try await gateway.withPartnerClient(TestPKI.shared.staff) {
      try await $0.recordEvent(eventRequest(number, .supplementDelivered))
    }
  }

  /// The courier takes the result at the agency and hands it to the citizen.
  func deliver(
    _ number: String,
    keys: HandoverKeys,
    clock: TestClock,
    on gateway: RunningGateway
  ) async throws {
    try await gateway.withPartnerClient(TestPKI.shared.staff) { counter in
      let ready = try await counter.getShipment(.with { $0.trackingNumber = number })
      let collectedAt = clock.now().proto
      _ = try await counter.recordResultCollected(
        .with {
          $0.requestID = UUID().uuidString
          $0.trackingNumber = number
          $0.result = .with {
            $0.documents = ["Bản sao trích lục"]
            $0.papersToRecall = ["Giấy hẹn trả kết quả"]
            $0.sealID = "R-1"
          }
          $0.occurredAt = collectedAt
          $0.handover = try keys.handover(
            ready,
            kind: .resultCollected,
            occurredAt: collectedAt,
            resultSeal: "R-1"
          )
        }
      )
      _ = try await counter.recordEvent(eventRequest(number, .outForDelivery))
      let delivered = try await counter.recordDeliveryAttempt(
        .with {
          $0.requestID = UUID().uuidString
          $0.trackingNumber = number
          $0.delivered = LifecycleEndToEndTests.proof(papers: ["Giấy hẹn trả kết quả"])
        }
      )
      #expect(delivered.shipment.state == .delivered)
    }
  }
}

/// What the test computes itself from the shipments it read back and the marks it gave.
struct Expected {
  /// Per shipment: the agency's processing class (2 early, 1 on the day, 0 late), the worst
  /// class of all its hops, the contacts to complete it and the attitude points.
  var agencyClass: [String: Int] = [:]
  var unitClass: [String: Int] = [:]
  var contacts: [String: Int] = [:]
  var attitude: [String: Int] = [:]
  var complaints = 0
  var postalOnTimePercent = 0.0
  var satisfiedPercent = 0.0

  init(shipments: [Postalgateway_V1_Shipment], marks: [String: Int32], now: Timestamp) {
    func timestamp(_ proto: Google_Protobuf_Timestamp) -> Timestamp {
      Timestamp(seconds: proto.seconds, nanoseconds: proto.nanos)
    }
    func points(_ hop: Postalgateway_V1_HopTimeliness) -> Int? {
      if hop.hasEndedAt, hop.stoppedBy == .unspecified {
        let day = timestamp(hop.endedAt).dateInVietnam.description
        return day < hop.dueDate ? 2 : day == hop.dueDate ? 1 : 0
      }
      return hop.running && timestamp(hop.dueAt) < now ? 0 : nil
    }
    var postal = (onTime: 0, ended: 0)
    for shipment in shipments {
      let number = shipment.trackingNumber
      let hops = shipment.hops
      self.agencyClass[number] = hops.first { $0.hop == .agencyProcessing }.flatMap(points)
      self.unitClass[number] = hops.compactMap(points).min()
      self.contacts[number] =
        shipment.events.filter { $0.type == .guidedIncomplete || $0.type == .supplementRequested }
        .count
      let complaint = marks[number].map { $0 <= 2 } ?? false
      if complaint { self.complaints += 1 }
      self.attitude[number] = complaint ? 0 : (self.unitClass[number] ?? 0)
      for hop in hops where hop.hop != .agencyProcessing && hop.hasEndedAt {
        guard let points = points(hop) else { continue }
        postal.ended += 1
        if points > 0 { postal.onTime += 1 }
      }
    }
    self.postalOnTimePercent = 100 * Double(postal.onTime) / Double(max(1, postal.ended))
    self.satisfiedPercent =
      100 * Double(marks.values.filter { $0 >= 4 }.count) / Double(max(1, marks.count))
  }

  /// The mean over the shipments, rounded half away from zero to one decimal (art. 15.2a).
  func average(_ values: [String: Int]) -> Double {
    self.rounded(Double(values.values.reduce(0, +)) / Double(max(1, values.count)))
  }

  func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
