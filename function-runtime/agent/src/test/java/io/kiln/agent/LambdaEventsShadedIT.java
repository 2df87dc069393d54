package io.kiln.agent;

/**
 * {@link LambdaEventsTest} against the shaded {@code kiln-agent.jar} the guest image carries
 * (failsafe sets {@code kiln.test.agent.jar}): AWS's serialization must survive the shading
 * whole. It did not once: leaving out its relocated joda-time broke every event type.
 */
class LambdaEventsShadedIT extends LambdaEventsTest {
}
