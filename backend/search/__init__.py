"""The application's side of search: the transactional outbox, the indexer that reads the database and
writes to the engine, and the ``flask search`` commands. The port itself (interfaces, engines, mappings)
is ``search_index``, which imports nothing of the application."""
