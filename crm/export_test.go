package crm

// SetRetentionBatchSize makes retention runs work in batches of n for one test; the returned func restores it.
func SetRetentionBatchSize(n int) (restore func()) {
	old := retentionBatchSize
	retentionBatchSize = n
	return func() { retentionBatchSize = old }
}
