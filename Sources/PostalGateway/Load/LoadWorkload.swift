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
  /// `Echo` on `load echo-server`: the bare gRPC cost, the baseline of the others.
  case echo

  /// Whether the measured calls go to the partner listener (mutual TLS) rather than the public
  /// one (TLS).
  var usesPartnerListener: Bool {
    switch self {
    case .register, .event, .echo: true
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

  /// What every stream of the workload shares: the shipments to track, the log's size.
  struct Shared: Sendable {
    var tracked: [(number: String, code: String)] = []
    var treeSize: Int64 = 0
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
    case .register, .event, .echo:
      break
    }
    return shared
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
    case .echo:
      let echo = Postalgateway_Bench_V1_EchoService.Client(wrapping: client)
      // About the size of a registration request.
      let payload = Data(repeating: 0x2A, count: 320)
      return { _ = try await echo.echo(.with { $0.payload = payload }) }
    }
  }

  /// A counter a stream's calls draw from.
  private final class Sequence: Sendable {
    private let value: Atomic<Int>
    init(start: Int) { self.value = Atomic(start) }
    func next() -> Int { self.value.wrappingAdd(1, ordering: .relaxed).oldValue }
  }
}
