package hello;

// The greeting; the binary component test changes it.
final class Greeting {
    static final String TEXT = "Hello from Java v1";
}
