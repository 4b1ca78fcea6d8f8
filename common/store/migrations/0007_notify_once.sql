-- 0007_notify_once: notify holds no transaction across a network send (issue 8).
--
-- An attempt row is now written before the send, in the short transaction
-- that leases the notification, and finished after the send in a second
-- one. Its state (mc_attempt_state_t in common/mc_store_notify.h) is named
-- by two columns, so rows written before this migration keep their meaning
-- without being rewritten:
--   in_progress  ok IS NULL     AND finished_at IS NULL      sent or being sent, outcome not recorded yet
--   ok           ok = true                                   the channel took the message
--   failed       ok = false                                  the channel refused it or was unreachable
--   lost         ok IS NULL     AND finished_at IS NOT NULL  closed by a later claim after the send
--                                                            lease ran out (notify or the store died
--                                                            between send and record): the channel
--                                                            may have the message; it is resent under
--                                                            the same message id
-- at is when the attempt started (its claim), finished_at when its outcome
-- was recorded (or when it was found lost).
--
-- Safe on a live store: DROP NOT NULL and adding a nullable column without
-- a default change only the catalog (a brief lock, no scan, no rewrite).
ALTER TABLE notification_attempt ALTER COLUMN ok DROP NOT NULL;
ALTER TABLE notification_attempt ADD COLUMN finished_at timestamptz;

COMMENT ON COLUMN notification_attempt.ok IS
    'true ok, false failed, NULL outcome not known: in_progress (finished_at NULL) or lost (finished_at set)';
COMMENT ON COLUMN notification_attempt.finished_at IS
    'when the outcome was recorded, or when a later claim found the attempt lost; NULL while in progress';
COMMENT ON COLUMN notification.next_attempt_at IS
    'pending: when the next attempt is due; while an attempt is in flight, the end of its send lease';
