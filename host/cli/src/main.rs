fn main() {
    println!("ralph");
}
