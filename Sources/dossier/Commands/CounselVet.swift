import ArgumentParser
import DossierCore
import Foundation

/// `dossier counsel vet`.
struct CounselVetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vet",
        abstract: "Record that counsel are vetted until a date (the end of that day, UTC).",
        discussion: "Example: dossier counsel vet counsel-k3j4m5n6p7q2r --until 2027-06-30 --note \"bar membership checked\""
    )
    @OptionGroup var staff: StaffOptions
    @Argument(help: ArgumentHelp("The counsel id or fingerprint.", valueName: "ID")) var id: String
    @Option(help: ArgumentHelp("Vetting expires at the end of this day (YYYY-MM-DD, UTC), or at an RFC 3339 time (2026-12-04T23:00:49Z, 2026-12-04T23:00:49.5+01:00).", valueName: "DATE")) var until: String
    @Option(help: ArgumentHelp("A note (stored encrypted).", valueName: "TEXT")) var note: String?

    func run() throws {
        let date = try CalendarDate.endOfDay(until)
        let c = try staff.session().sharing.vetCounsel(id, until: date, note: note)
        Terminal.note("\(c.id) is \(c.status(at: Date()))")
    }
}
