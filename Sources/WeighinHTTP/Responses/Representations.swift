import Foundation
import Primitives
import WeighinService
import WireFormats

/// The JSON shapes of the contract, written member by member.
extension JSONWriter {
    /// RFC 3339 in UTC with a `Z`, microseconds.
    mutating func timestamp(_ date: Date) {
        let micros = TimestampText.microseconds(date)
        asciiString(capacity: TimestampText.length) { TimestampText.write(microseconds: micros, into: $0) }
    }

    /// The canonical lower-case form.
    mutating func uuid(_ id: UUID) {
        asciiString(capacity: UUID.canonicalLength) { id.writeLowercased(into: $0) }
    }

    /// `YYYY-MM-DD`.
    mutating func date(_ day: CalendarDate) {
        guard day.hasFourDigitYear else { return string(day.description) }
        asciiString(capacity: CalendarDate.isoLength) { day.writeISO(into: $0) }
    }

    mutating func optionalNumber(_ value: Decimal?) {
        if let value { number(value) } else { null() }
    }

    mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// `{id, email, name, weight_unit, created_at}`.
    mutating func user(_ user: User) {
        beginObject()
        key("id"); uuid(user.id)
        key("email"); string(user.email)
        key("name"); string(user.name)
        key("weight_unit"); string(user.weightUnit.rawValue)
        key("created_at"); timestamp(user.createdAt)
        endObject()
    }

    /// The entry object, the weight shown in `display`: `{id, weight, unit, recorded_on, measured_at, note,
    /// body_fat_percent, water_percent, muscle_percent, visceral_fat, source, client_record_id, client_version,
    /// created_at, updated_at}`, every added field null when not set.
    mutating func entry(_ entry: Entry, display: WeightUnit) {
        let c = entry.composition
        beginObject()
        key("id"); uuid(entry.id)
        key("weight"); number(entry.weight.shown(in: display))
        key("unit"); string(display.rawValue)
        key("recorded_on"); date(entry.recordedOn)
        key("measured_at"); if let measured = entry.measuredAt { string(measured.rfc3339) } else { null() }
        key("note"); optionalString(entry.note)
        key("body_fat_percent"); optionalNumber(c.bodyFatPercent)
        key("water_percent"); optionalNumber(c.waterPercent)
        key("muscle_percent"); optionalNumber(c.musclePercent)
        key("visceral_fat"); if let rating = c.visceralFat { number(rating) } else { null() }
        key("source"); optionalString(c.source)
        key("client_record_id"); optionalString(entry.client?.id)
        key("client_version"); if let version = entry.client?.version { number(Int(version)) } else { null() }
        key("created_at"); timestamp(entry.createdAt)
        key("updated_at"); timestamp(entry.updatedAt)
        endObject()
    }

    /// An entry in the unit it was entered in (export).
    mutating func enteredEntry(_ entry: Entry) {
        self.entry(entry, display: entry.weight.unit)
    }

    /// The goal object, weights shown in `display`: `{target_weight, unit, target_date, start_weight, start_date,
    /// direction, created_at, updated_at}`.
    mutating func goal(_ goal: Goal, display: WeightUnit) {
        beginObject()
        key("target_weight"); number(goal.target.shown(in: display))
        key("unit"); string(display.rawValue)
        key("target_date"); if let day = goal.targetDate { date(day) } else { null() }
        key("start_weight"); number(goal.start.shown(in: display))
        key("start_date"); date(goal.startDate)
        key("direction"); string(goal.direction.rawValue)
        key("created_at"); timestamp(goal.createdAt)
        key("updated_at"); timestamp(goal.updatedAt)
        endObject()
    }

    /// `{goal, current, remaining, percent_complete, weekly_rate, projected_date, state}` in `display`.
    mutating func progress(_ progress: GoalProgress, display: WeightUnit) {
        beginObject()
        key("goal"); goal(progress.goal, display: display)
        key("current"); optionalNumber(progress.current)
        key("remaining"); optionalNumber(progress.remaining)
        key("percent_complete"); optionalNumber(progress.percentComplete)
        key("weekly_rate"); optionalNumber(progress.weeklyRate)
        key("projected_date"); if let day = progress.projectedDate { date(day) } else { null() }
        key("state"); string(progress.state.rawValue)
        endObject()
    }

    /// `{token, token_type, expires_at, user}`.
    mutating func token(_ issued: IssuedToken) {
        beginObject()
        key("token"); string(issued.token)
        key("token_type"); string("Bearer")
        key("expires_at"); timestamp(issued.expiresAt)
        key("user"); user(issued.user)
        endObject()
    }

    /// A listed token: `{id, name, scope, created_at, expires_at, last_used_at}`, never its secret.
    mutating func tokenSummary(_ token: TokenSummary) {
        beginObject()
        tokenMembers(token)
        endObject()
    }

    /// A personal token just made: the listed members and `token`, shown this once.
    mutating func createdToken(_ created: CreatedToken) {
        beginObject()
        tokenMembers(created.summary)
        key("token"); string(created.token)
        endObject()
    }

    private mutating func tokenMembers(_ token: TokenSummary) {
        key("id"); uuid(token.id)
        key("name"); optionalString(token.name)
        key("scope"); string(token.scope.rawValue)
        key("created_at"); timestamp(token.createdAt)
        key("expires_at"); timestamp(token.expiresAt)
        key("last_used_at"); if let used = token.lastUsedAt { timestamp(used) } else { null() }
    }

    /// `{unit, daily, count, min, max, mean, first, latest, change, weekly_rate}`.
    mutating func statistics(_ stats: Statistics) {
        func point(_ point: Statistics.Point?, into writer: inout JSONWriter) {
            guard let point else { return writer.null() }
            writer.beginObject()
            writer.key("recorded_on"); writer.date(point.recordedOn)
            writer.key("weight"); writer.number(point.weight)
            writer.endObject()
        }
        beginObject()
        key("unit"); string(stats.unit.rawValue)
        key("daily"); string(stats.daily.rawValue)
        key("count"); number(stats.count)
        key("min"); optionalNumber(stats.min)
        key("max"); optionalNumber(stats.max)
        key("mean"); optionalNumber(stats.mean)
        key("first"); point(stats.first, into: &self)
        key("latest"); point(stats.latest, into: &self)
        key("change"); optionalNumber(stats.change)
        key("weekly_rate"); optionalNumber(stats.weeklyRate)
        key("weekly_rate_ci95")
        if let interval = stats.weeklyRateCI95 {
            beginArray(); number(interval.low); number(interval.high); endArray()
        } else {
            null()
        }
        endObject()
    }

    /// `{unit, method, daily, window | smoothing [, slope_smoothing], points: [{date, weight, average}]}`.
    mutating func trend(_ points: [TrendPoint], unit: WeightUnit, daily: DailyValue, method: TrendMethod) {
        beginObject()
        key("unit"); string(unit.rawValue)
        key("method"); string(method.name)
        key("daily"); string(daily.rawValue)
        switch method {
        case .window(let days):
            key("window"); number(days)
        case .ema(let smoothing):
            key("smoothing"); number(smoothing)
        case .holt(let smoothing, let slopeSmoothing):
            key("smoothing"); number(smoothing)
            key("slope_smoothing"); number(slopeSmoothing)
        }
        key("points")
        beginArray()
        for point in points {
            beginObject()
            key("date"); date(point.date)
            key("weight"); number(point.weight)
            key("average"); number(point.average)
            endObject()
        }
        endArray()
        endObject()
    }
}

extension JSONWriter {
    /// A webhook as `POST/GET /v1/webhooks` answer it; `secret` only in the answer that creates it.
    mutating func webhook(_ webhook: Webhook, secret: WebhookSecret? = nil) {
        beginObject()
        key("id"); uuid(webhook.id)
        key("url"); string(webhook.url)
        key("events")
        beginArray()
        for event in webhook.events { string(event.rawValue) }
        endArray()
        key("description"); optionalString(webhook.description)
        if let secret { key("secret"); string(secret.text) }
        key("created_at"); timestamp(webhook.createdAt)
        key("disabled_at"); if let disabledAt = webhook.disabledAt { timestamp(disabledAt) } else { null() }
        endObject()
    }

    /// One attempt of the delivery log.
    mutating func delivery(_ delivery: WebhookDelivery) {
        beginObject()
        key("event_id"); uuid(delivery.eventID)
        key("event_type"); string(delivery.eventType)
        key("attempt"); number(delivery.attempt)
        key("attempted_at"); timestamp(delivery.attemptedAt)
        key("status_code"); if let code = delivery.statusCode { number(code) } else { null() }
        key("duration_ms"); number(delivery.durationMilliseconds)
        key("error"); optionalString(delivery.error)
        endObject()
    }
}
