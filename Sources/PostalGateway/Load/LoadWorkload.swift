import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Proto
import SwiftProtobuf
import Synchronization

/// What the load tool repeats.
enum LoadWorkload: String, ExpressibleByArgument, CaseIterable, Sendable {
  /// `RegisterPickup` (partner listener): a new shipment, one custody entry, one fsync.
  case register
  /// `RecordEvent` TRANSIT_SCAN (partner listener) on shipments in transit: one custody entry.
  case event
  /// `TrackShipment` (public listener) with the right verification code.
  case track
  /// `GetInclusionProof` (public listener) of a random entry against the latest checkpoint.
  case proof
  /// `AcknowledgeHandoff` (partner listener, as the agency) accepting a digitized dossier of a
  /// pull-mode agency: the acceptance in the custody log and the outbox row closed. Each call
  /// consumes a dossier prepared beforehand, so it needs `--requests`.
  case ack
  /// `Echo` on `load echo-server`: the bare gRPC cost, the baseline of the others.
  case echo

  /// Whether the measured calls go to the partner listener (mutual TLS) rather than the public
  /// one (TLS).
  var usesPartnerListener: Bool {
    switch self {
    case .register, .event, .ack, .echo: true
    case .track, .proof: false
    }
  }
}

/// One stream's repeated call, with what it needs prepared beforehand (not measured).
typealias LoadCall = @Sendable () async throws -> Void

/// Realistic requests: valid citizen ids and mobile numbers, a catalog procedure, a counter in
/// Thái Nguyên, the README's collection (the published list, its fee and postage).
enum LoadRequests {
  private static let names = [
    "Nguyễn Văn An", "Trần Thị Bình", "Lê Minh Châu", "Phạm Quốc Dũng", "Hoàng Thị Giang",
    "Vũ Đức Hải", "Đặng Thu Hương", "Bùi Văn Khánh",
  ]

  /// A pickup at the counter of post office 250000 for procedure 2.000635, by a citizen born in
  /// Thái Nguyên (citizen id 019, century digit 0) with a Vinaphone number.
  static func registerPickup(_ sequence: Int) -> Postalgateway_V1_RegisterPickupRequest {
    .with {
      $0.requestID = UUID().uuidString
      $0.serviceType = .dossierAndResult
      $0.applicant = .with {
        $0.fullName = Self.names[sequence % Self.names.count]
        $0.citizenID = String(format: "0190%02d%06d", 60 + sequence % 40, sequence % 1_000_000)
        $0.phone = String(format: "091%07d", sequence % 10_000_000)
        $0.address = .with {
          $0.provinceCode = "19"
          $0.communeCode = "05500"
          $0.detail = "\(1 + sequence % 200) Lương Ngọc Quyến"
        }
      }
      $0.procedureCode = "2.000635"
      $0.pickup.counter = .with { $0.postOfficeCode = "250000" }
    }
  }

  /// The full published list with the seal, fee and postage: the shipment becomes COLLECTED.
  static func collection(_ number: String) -> Postalgateway_V1_RecordCollectionRequest {
    .with {
      $0.requestID = UUID().uuidString
      $0.trackingNumber = number
      $0.items = [
        .with {
          $0.documentID = "TO_KHAI"
          $0.form = .original
          $0.pages = 2
        },
        .with {
          $0.documentID = "GIAY_TO_TUY_THAN"
          $0.form = .copy
          $0.pages = 1
        },
      ]
      $0.sealID = "S-\(number)"
      $0.feeCollectedVnd = 8000
      $0.postageVnd = 25000
    }
  }

  /// A PDF stand-in of `size` bytes: the scan of one paper.
  static func scan(_ size: Int) -> Data {
    var bytes = Data("%PDF-1.7\n".utf8)
    bytes.append(Data(repeating: 0x20, count: max(0, size - bytes.count - 6)))
    bytes.append(Data("%%EOF\n".utf8))
    return bytes
  }

  /// The agency's acceptance of a handoff, with its dossier code `agency-YYMMDD-NNNN`: serial
  /// `index % 9999 + 1` of the day `index / 9999` days after `firstDay` (days since 1/1/2000),
  /// so that a run's codes never repeat (the store keeps them unique per agency).
  static func acceptance(
    handoffID: String,
    agency: String,
    index: Int,
    firstDay: Int
  ) -> Postalgateway_V1_AcknowledgeHandoffRequest {
    let day = Date(timeIntervalSince1970: 946_684_800 + Double(firstDay + index / 9999) * 86_400)
    let date = Calendar(identifier: .gregorian).dateComponents(
      in: TimeZone(identifier: "UTC")!,
      from: day
    )
    let code = String(
      format: "%@-%02d%02d%02d-%04d",
      agency,
      date.year! % 100,
      date.month!,
      date.day!,
      index % 9999 + 1
    )
    return .with {
      $0.requestID = UUID().uuidString
      $0.handoffID = handoffID
      $0.accepted = .with {
        $0.dossierCode = code
        $0.receivedAt = Google_Protobuf_Timestamp(date: Date())
      }
    }
  }

  /// An event with a new request id.
  static func event(
    _ number: String,
    _ type: Postalgateway_V1_EventType
  )
    -> Postalgateway_V1_RecordEventRequest
  {
    .with {
      $0.requestID = UUID().uuidString
      $0.trackingNumber = number
      $0.type = type
    }
  }
}

/// Prepares each stream's call for a workload.
struct LoadPreparation: Sendable {
  /// The client of the partner listener (registers what the calls need).
  var partner: GRPCClient<HTTP2ClientTransport.Posix>
  /// How many shipments each event stream scans in turn (keeps histories short, as real ones).
  var shipmentsPerStream: Int
  /// How many shipments the track workload looks up at random.
  var trackedShipments: Int
  /// How many dossiers the ack workload prepares (one per measured call).
  var acknowledgedDossiers: Int = 0
  /// The agency the ack workload acknowledges as (the destination of its dossiers).
  var agency = "000.00.00.H55"

  /// What every stream of the workload shares: the shipments to track, the log's size.
  struct Shared: Sendable {
    var tracked: [(number: String, code: String)] = []
    var treeSize: Int64 = 0
    /// The ack workload's handoffs, taken in turn by every stream.
    var handoffs: [String] = []
    var handoffCursor = Sequence(start: 0)
    /// The first day of the ack workload's dossier codes (days since 1/1/2000, at random).
    var firstDay = Int.random(in: 0 ..< 36_000)
  }

  /// Registers the shipments citizens will track, or waits for a signed checkpoint.
  func shared(
    for workload: LoadWorkload,
    public client: GRPCClient<HTTP2ClientTransport.Posix>
  ) async throws -> Shared {
    var shared = Shared()
    let counter = Postalgateway_V1_CounterService.Client(wrapping: self.partner)
    switch workload {
    case .track:
      for sequence in 0 ..< self.trackedShipments {
        let response = try await counter.registerPickup(LoadRequests.registerPickup(sequence))
        shared.tracked.append((response.shipment.trackingNumber, response.verificationCode))
      }
    case .proof:
      for sequence in 0 ..< self.trackedShipments {
        _ = try await counter.registerPickup(LoadRequests.registerPickup(sequence))
      }
      let custody = Postalgateway_V1_CustodyService.Client(wrapping: client)
      // The checkpointer signs the new entries within its interval.
      let deadline = ContinuousClock.now.advanced(by: .seconds(60))
      while ContinuousClock.now < deadline {
        let checkpoint = try await custody.getCheckpoint(.init())
        if checkpoint.treeSize >= Int64(self.trackedShipments) {
          shared.treeSize = checkpoint.treeSize
          break
        }
        try await Task.sleep(for: .milliseconds(200))
      }
      guard shared.treeSize > 0 else {
        throw ValidationError("no signed checkpoint covers the new entries within 60 s")
      }
    case .ack:
      shared.handoffs = try await self.digitizedDossiers(self.acknowledgedDossiers)
    case .register, .event, .echo:
      break
    }
    return shared
  }

  /// Registers, collects and scans `count` dossiers (8 at a time) so that each is DIGITIZED and
  /// offered to the pull-mode agency; returns their handoff ids.
  private func digitizedDossiers(_ count: Int) async throws -> [String] {
    let counter = Postalgateway_V1_CounterService.Client(wrapping: self.partner)
    let scan = LoadRequests.scan(60_000)
    let offset = Int.random(in: 0 ..< 1_000_000)
    let agency = self.agency
    return try await withThrowingTaskGroup(of: [String].self) { group in
      let lanes = 8
      for lane in 0 ..< lanes {
        group.addTask {
          var ids: [String] = []
          for index in stride(from: lane, to: count, by: lanes) {
            let registered = try await counter.registerPickup(
              LoadRequests.registerPickup(offset + index)
            )
            let number = registered.shipment.trackingNumber
            _ = try await counter.recordCollection(LoadRequests.collection(number))
            var state = registered.shipment.state
            for document in ["TO_KHAI", "GIAY_TO_TUY_THAN"] {
              state = try await counter.uploadScan(
                requestProducer: { writer in
                  try await writer.write(
                    .with {
                      $0.header = .with {
                        $0.requestID = UUID().uuidString
                        $0.trackingNumber = number
                        $0.documentID = document
                        $0.contentType = .pdf
                      }
                    }
                  )
                  try await writer.write(.with { $0.chunk = scan })
                }
              ).shipment.state
            }
            guard state == .digitized else {
              throw ValidationError(
                "dossier \(number) is \(state) after its scans, not DIGITIZED: does the routing file give agency \(agency) the pull mode?"
              )
            }
            ids.append("\(number)-H1")
          }
          return ids
        }
      }
      var all: [String] = []
      for try await ids in group { all += ids }
      return all
    }
  }

  /// The call stream `index` repeats, over `client`.
  func call(
    _ workload: LoadWorkload,
    stream index: Int,
    client: GRPCClient<HTTP2ClientTransport.Posix>,
    shared: Shared
  ) async throws -> LoadCall {
    switch workload {
    case .register:
      let counter = Postalgateway_V1_CounterService.Client(wrapping: client)
      let sequence = Sequence(start: index * 1_000_000)
      return { _ = try await counter.registerPickup(LoadRequests.registerPickup(sequence.next())) }
    case .event:
      let setup = Postalgateway_V1_CounterService.Client(wrapping: self.partner)
      var numbers: [String] = []
      for offset in 0 ..< self.shipmentsPerStream {
        let registered = try await setup.registerPickup(
          LoadRequests.registerPickup(index * self.shipmentsPerStream + offset)
        )
        let number = registered.shipment.trackingNumber
        _ = try await setup.recordCollection(LoadRequests.collection(number))
        _ = try await setup.recordEvent(LoadRequests.event(number, .dispatched))
        numbers.append(number)
      }
      let counter = Postalgateway_V1_CounterService.Client(wrapping: client)
      let sequence = Sequence(start: 0)
      let chosen = numbers
      return {
        let number = chosen[sequence.next() % chosen.count]
        _ = try await counter.recordEvent(LoadRequests.event(number, .transitScan))
      }
    case .track:
      let tracking = Postalgateway_V1_TrackingService.Client(wrapping: client)
      let tracked = shared.tracked
      return {
        let shipment = tracked.randomElement()!
        _ = try await tracking.trackShipment(
          .with {
            $0.trackingNumber = shipment.number
            $0.verificationCode = shipment.code
          }
        )
      }
    case .proof:
      let custody = Postalgateway_V1_CustodyService.Client(wrapping: client)
      let size = shared.treeSize
      return {
        _ = try await custody.getInclusionProof(
          .with { $0.leafIndex = Int64.random(in: 0 ..< size) }
        )
      }
    case .ack:
      let agencyService = Postalgateway_V1_AgencyService.Client(wrapping: client)
      let handoffs = shared.handoffs
      let cursor = shared.handoffCursor
      let agency = self.agency
      let firstDay = shared.firstDay
      return {
        let index = cursor.next()
        guard index < handoffs.count else {
          throw ValidationError("the ack workload ran out of prepared dossiers")
        }
        _ = try await agencyService.acknowledgeHandoff(
          LoadRequests.acceptance(
            handoffID: handoffs[index],
            agency: agency,
            index: index,
            firstDay: firstDay
          )
        )
      }
    case .echo:
      let echo = Postalgateway_Bench_V1_EchoService.Client(wrapping: client)
      // About the size of a registration request.
      let payload = Data(repeating: 0x2A, count: 320)
      return { _ = try await echo.echo(.with { $0.payload = payload }) }
    }
  }

  /// A counter a stream's calls draw from.
  final class Sequence: Sendable {
    private let value: Atomic<Int>
    init(start: Int) { self.value = Atomic(start) }
    func next() -> Int { self.value.wrappingAdd(1, ordering: .relaxed).oldValue }
  }
}
