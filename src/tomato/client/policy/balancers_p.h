#pragma once
// PLACEHOLDER: the policies (random, round-robin, least-in-flight, consistent-hash).
