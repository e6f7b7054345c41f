-- Goals: one per user, kept exactly as set. The target and the start each keep their own unit (the start defaults to
-- the latest entry, in the unit it was entered in), so changing the display unit never changes a goal.

CREATE TABLE goals (
    user_id       uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    target_weight numeric NOT NULL,
    target_unit   text NOT NULL CHECK (target_unit IN ('kg', 'lb')),
    -- The day the target should be reached by, or null for none.
    target_date   date,
    start_weight  numeric NOT NULL,
    start_unit    text NOT NULL CHECK (start_unit IN ('kg', 'lb')),
    start_date    date NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- The same ranges as an entry's weight.
    CONSTRAINT goals_target_weight_range CHECK (
        target_weight > 0 AND target_weight = round(target_weight, 2)
        AND ((target_unit = 'kg' AND target_weight <= 1000) OR (target_unit = 'lb' AND target_weight <= 2204.62))),
    CONSTRAINT goals_start_weight_range CHECK (
        start_weight > 0 AND start_weight = round(start_weight, 2)
        AND ((start_unit = 'kg' AND start_weight <= 1000) OR (start_unit = 'lb' AND start_weight <= 2204.62))),
    -- A goal moves somewhere: the target differs from the start (compared exactly, in kilograms).
    CONSTRAINT goals_target_differs_from_start CHECK (
        target_weight * CASE target_unit WHEN 'lb' THEN 0.45359237 ELSE 1 END
        <> start_weight * CASE start_unit WHEN 'lb' THEN 0.45359237 ELSE 1 END),
    CONSTRAINT goals_target_date_after_start CHECK (target_date > start_date)
);
