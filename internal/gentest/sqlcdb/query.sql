-- name: GetAuthor :one
SELECT id, name FROM authors WHERE id = ? LIMIT 1;

-- name: ListAuthors :many
SELECT id, name FROM authors ORDER BY id;

-- name: ListAuthorsByIDs :many
SELECT id, name FROM authors WHERE id IN (sqlc.slice('ids'));
