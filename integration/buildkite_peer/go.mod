module baton/buildkite_peer

go 1.19
