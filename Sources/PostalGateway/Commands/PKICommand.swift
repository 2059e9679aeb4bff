import ArgumentParser
import Foundation
import Tracking

/// `postal-gateway pki …`: the development PKI.
struct PKICommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pki",
    abstract: "Create the development CA, issue certificates from it, and revoke them.",
    subcommands: [Init.self, Issue.self, RevokeCommand.self]
  )

  struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Create the development CA and the server, staff, agency, operator and gateway-client certificates (if absent)."
    )

    @Option(help: "Data directory. Default ./postal-data.")
    var dataDir = "./postal-data"

    @Option(help: "SPIFFE trust domain. Default postal-gateway.local.")
    var trustDomain = "postal-gateway.local"

    @Option(name: .customLong("host"), help: "Extra server name or IP address (repeatable).")
    var hosts: [String] = []

    func run() throws {
      let pki = DevelopmentPKI(
        directory: (self.dataDir as NSString).appendingPathComponent("pki"),
        trustDomain: self.trustDomain
      )
      let created = try pki.ensure(serverHosts: self.hosts)
      print(
        created.isEmpty
          ? "Nothing to do: \(pki.directory) is complete."
          : "Created in \(pki.directory): \(created.joined(separator: ", "))"
      )
    }
  }

  struct Issue: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Issue a client or server certificate from the development CA."
    )

    enum Role: String, ExpressibleByArgument, CaseIterable {
      case staff, agency, `operator`, oversight, server
    }

    @Option(help: "staff, agency, operator, oversight or server.")
    var role: Role

    @Option(help: "Staff: the post office code (6 digits).")
    var postOffice: String?

    @Option(help: "Staff, operators and oversight offices: the id (letters, digits, - _ .).")
    var staffID: String?

    @Option(help: "Agency: the QCVN 102 agency code, e.g. 000.00.00.H55.")
    var agencyCode: String?

    @Option(name: .customLong("host"), help: "Server: a DNS name or IP address (repeatable).")
    var hosts: [String] = []

    @Option(help: "Name of the files to write: <name>.pem and <name>-key.pem.")
    var name: String?

    @Option(help: "Data directory holding pki/ca.pem. Default ./postal-data.")
    var dataDir = "./postal-data"

    @Option(help: "Where to write. Default: the data directory's pki folder.")
    var out: String?

    @Option(help: "SPIFFE trust domain. Default postal-gateway.local.")
    var trustDomain = "postal-gateway.local"

    func run() throws {
      let pki = DevelopmentPKI(
        directory: (self.dataDir as NSString).appendingPathComponent("pki"),
        trustDomain: self.trustDomain
      )
      guard try pki.read("ca") != nil else {
        throw ValidationError("no CA in \(pki.directory): run `postal-gateway pki init` first")
      }
      let authority = try pki.certificateAuthority()
      let profile: CertificateAuthority.Profile
      let defaultName: String
      let commonName: String
      switch self.role {
      case .staff:
        guard let postOffice, let office = try? PostOfficeCode(validating: postOffice) else {
          throw ValidationError("--post-office must be six digits")
        }
        guard let staffID, SPIFFEIdentity.isValidStaffID(staffID) else {
          throw ValidationError("--staff-id must be 1–64 of letters, digits, '-', '_', '.'")
        }
        profile = .client(
          spiffeID: SPIFFEIdentity.staff(
            trustDomain: self.trustDomain,
            postOffice: office,
            staffID: staffID
          )
        )
        defaultName = "staff-\(postOffice)-\(staffID)"
        commonName = staffID
      case .agency:
        guard let agencyCode, let agency = try? AgencyCode(validating: agencyCode) else {
          throw ValidationError("--agency-code must have the form DDD.DD.DD.LDD")
        }
        profile = .client(
          spiffeID: SPIFFEIdentity.agency(trustDomain: self.trustDomain, agency: agency)
        )
        defaultName = "agency-\(agencyCode)"
        commonName = agencyCode
      case .operator:
        guard let staffID, SPIFFEIdentity.isValidStaffID(staffID) else {
          throw ValidationError("--staff-id must be 1–64 of letters, digits, '-', '_', '.'")
        }
        profile = .client(
          spiffeID: SPIFFEIdentity.operator(trustDomain: self.trustDomain, id: staffID)
        )
        defaultName = "operator-\(staffID)"
        commonName = staffID
      case .oversight:
        guard let staffID, SPIFFEIdentity.isValidStaffID(staffID) else {
          throw ValidationError("--staff-id must be 1–64 of letters, digits, '-', '_', '.'")
        }
        profile = .client(
          spiffeID: SPIFFEIdentity.oversight(trustDomain: self.trustDomain, id: staffID)
        )
        defaultName = "oversight-\(staffID)"
        commonName = staffID
      case .server:
        guard !self.hosts.isEmpty else { throw ValidationError("--host is required for a server") }
        let (dns, ips) = DevelopmentPKI.split(self.hosts)
        profile = .server(dnsNames: dns, ipAddresses: ips)
        defaultName = "server-\(self.hosts[0])"
        commonName = self.hosts[0]
      }
      let credential = try authority.issue(profile, commonName: commonName)
      let target = DevelopmentPKI(
        directory: self.out ?? pki.directory,
        trustDomain: self.trustDomain
      )
      let name = self.name ?? defaultName
      try target.write(credential, as: name)
      print("Wrote \(target.path("\(name).pem")) and \(target.path("\(name)-key.pem"))")
    }
  }
}
