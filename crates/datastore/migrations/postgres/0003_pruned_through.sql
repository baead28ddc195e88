-- The change log's low-water mark: every event with seq <= pruned_through has been pruned. A
-- reader whose position is below it cannot catch up from the log and must reload the full state.
ALTER TABLE event_counter ADD COLUMN pruned_through BIGINT NOT NULL DEFAULT 0;
