import GRPCCore
import Proto
import SwiftProtobuf
import Synchronization
import Tracking

/// The serving status of one listener's services, for `grpc.health.v1.Health`.
///
/// `""` stands for the whole listener. Everything starts `NOT_SERVING`; ``GatewayHealth`` sets
/// the statuses as the gateway starts, loses or regains its store and drains. At shutdown open
/// `Watch` streams end, so that they do not hold the graceful shutdown up.
final class HealthStatus: Sendable {
  typealias Status = Grpc_Health_V1_HealthCheckResponse.ServingStatus

  private struct State {
    var statuses: [String: Status]
    var watchers: [Int: (service: String, continuation: AsyncStream<Status>.Continuation)] = [:]
    var nextWatcher = 0
    var finished = false
  }

  private let state: Mutex<State>

  /// Creates the status of a listener serving these services (all `NOT_SERVING` until started).
  init(services: [String]) {
    var statuses: [String: Status] = ["": .notServing]
    for service in services { statuses[service] = .notServing }
    self.state = Mutex(State(statuses: statuses))
  }

  /// The services (and `""`) this listener reports on.
  var services: [String] { self.state.withLock { Array($0.statuses.keys) } }

  /// The status of a service, or `nil` if this listener does not serve it.
  func status(of service: String) -> Status? {
    self.state.withLock { $0.statuses[service] }
  }

  /// Sets statuses and tells the watchers of those that changed.
  func set(_ statuses: [String: Status]) {
    let notify = self.state.withLock { state -> [(AsyncStream<Status>.Continuation, Status)] in
      var changed: [String: Status] = [:]
      for (service, status) in statuses where state.statuses[service] != nil {
        if state.statuses[service] != status { changed[service] = status }
        state.statuses[service] = status
      }
      return state.watchers.values.compactMap { watcher in
        changed[watcher.service].map { (watcher.continuation, $0) }
      }
    }
    for (continuation, status) in notify { continuation.yield(status) }
  }

  /// Marks every service `NOT_SERVING` and ends every watch.
  func shutDown() {
    let continuations = self.state.withLock { state in
      state.finished = true
      for key in state.statuses.keys { state.statuses[key] = .notServing }
      defer { state.watchers = [:] }
      return state.watchers.values.map(\.continuation)
    }
    for continuation in continuations {
      continuation.yield(.notServing)
      continuation.finish()
    }
  }

  /// The current status of a service and then every change, until shutdown.
  func updates(of service: String) -> AsyncStream<Status> {
    let (stream, continuation) = AsyncStream.makeStream(of: Status.self)
    let id: Int? = self.state.withLock { state in
      continuation.yield(state.statuses[service] ?? .serviceUnknown)
      guard !state.finished else { return nil }
      let id = state.nextWatcher
      state.nextWatcher += 1
      state.watchers[id] = (service, continuation)
      return id
    }
    guard let id else {
      continuation.finish()
      return stream
    }
    continuation.onTermination = { [weak self] _ in
      self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
    }
    return stream
  }
}

/// `grpc.health.v1.Health` for one listener.
struct HealthService: Grpc_Health_V1_Health.SimpleServiceProtocol {
  let status: HealthStatus

  /// The status of a service; `NOT_FOUND` for one this listener does not serve.
  func check(
    request: Grpc_Health_V1_HealthCheckRequest,
    context: ServerContext
  ) async throws -> Grpc_Health_V1_HealthCheckResponse {
    guard let status = self.status.status(of: request.service) else {
      throw TrackingError(code: .unknownService, message: "unknown service").status
    }
    return .with { $0.status = status }
  }

  /// The status of a service now and on every change, until the listener shuts down or the
  /// watcher goes away (gRPC reports that through the context, not by cancelling the task).
  func watch(
    request: Grpc_Health_V1_HealthCheckRequest,
    response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
    context: ServerContext
  ) async throws {
    let updates = self.status.updates(of: request.service)
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        for await status in updates {
          try await response.write(.with { $0.status = status })
        }
      }
      group.addTask { try? await context.cancellation.cancelled }
      try await group.next()
      group.cancelAll()
    }
  }
}
