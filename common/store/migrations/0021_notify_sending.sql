-- 0021_notify_sending: fewer writes per notification (issue 11 point 2, "no
-- write that no reader needs").
--
-- Until now a claim inserted one notification_attempt row "in progress" per
-- channel before the send and the record updated each of them after it: two
-- writes per channel, the first read only if the record never came (a
-- crash: the next claim marked them lost and knew which channels to resend
-- and whether the last allowed attempt was lost). The claim already updates
-- the notification row (attempts + 1, the send lease in next_attempt_at):
-- the channels in flight now ride on that same UPDATE, in
-- notification.sending, and the record inserts each attempt row once, with
-- its outcome (at = when the claim started it, as before) and clears
-- sending in the same UPDATE that decides the notification. A later claim
-- that finds sending set after the lease ran out inserts those channels'
-- rows as lost (ok NULL, finished_at set: the state 0007 names), so the
-- history reads as before. Rows in_progress (ok NULL, finished_at NULL) are
-- no longer written; the ones a running notify left are moved into sending
-- here, so the next claim finds them lost exactly as it would have.
--
-- Safe on a live store: a nullable column without a default changes only
-- the catalog; the move touches only notifications in flight.
ALTER TABLE notification ADD COLUMN sending text;

COMMENT ON COLUMN notification.sending IS
    'channels of the attempt in flight ("spool,sms"), set by the claim that leased it, cleared by its record; set on a due row: that attempt was lost';

UPDATE notification n SET sending = s.channels
  FROM (SELECT notification_id, string_agg(DISTINCT channel, ',') AS channels
          FROM notification_attempt WHERE ok IS NULL AND finished_at IS NULL
         GROUP BY notification_id) s
 WHERE n.id = s.notification_id;
DELETE FROM notification_attempt WHERE ok IS NULL AND finished_at IS NULL;

GRANT UPDATE (sending) ON notification TO motcua_notify;
