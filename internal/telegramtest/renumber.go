package telegramtest

// Renumber makes next the update_id of the next update, as Telegram does after a week
// without updates: it then numbers updates afresh, at random, possibly far below the ids it
// gave before. An offset above next confirms (deletes) the new updates unseen, as Telegram's
// would. By then Telegram has dropped any unconfirmed update (it keeps them 24 hours), so
// Renumber with updates still queued is a misuse of the fake.
func (s *Server) Renumber(next int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 {
		s.misuse("Renumber with %d updates still queued: Telegram renumbers only after a week without any", len(s.queue))
		return
	}
	if next <= 0 {
		s.misuse("Renumber(%d): update ids are positive", next)
		return
	}
	s.nextUpdateID = next
}
